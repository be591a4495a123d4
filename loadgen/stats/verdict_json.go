package stats

import "encoding/json"

// verdictJSON is a Verdict as the reports write it: the loss and its limit only when
// judged.
type verdictJSON struct {
	Objective string   `json:"objective"`
	Met       bool     `json:"met"`
	Checks    []Check  `json:"checks"`
	Loss      *float64 `json:"loss,omitempty"`
	MaxLoss   *float64 `json:"max_loss,omitempty"`
	Reason    string   `json:"reason,omitempty"`
}

// MarshalJSON writes the verdict with the loss fields only when CheckLoss judged them.
func (v Verdict) MarshalJSON() ([]byte, error) {
	j := verdictJSON{Objective: v.Objective, Met: v.Met, Checks: v.Checks, Reason: v.Reason}
	if v.lossChecked {
		j.Loss, j.MaxLoss = &v.Loss, &v.MaxLoss
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (v *Verdict) UnmarshalJSON(b []byte) error {
	var j verdictJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*v = Verdict{Objective: j.Objective, Met: j.Met, Checks: j.Checks, Reason: j.Reason}
	if j.Loss != nil || j.MaxLoss != nil {
		v.lossChecked = true
		if j.Loss != nil {
			v.Loss = *j.Loss
		}
		if j.MaxLoss != nil {
			v.MaxLoss = *j.MaxLoss
		}
	}
	return nil
}

// checkJSON is a Check as the reports write it: its unit in its figures' names.
type checkJSON struct {
	Name    string   `json:"name"`
	LimitUS *float64 `json:"limit_us,omitempty"`
	ValueUS *float64 `json:"value_us,omitempty"`
	LimitMS *float64 `json:"limit_ms,omitempty"`
	ValueMS *float64 `json:"value_ms,omitempty"`
	Met     bool     `json:"met"`
}

// MarshalJSON writes the check's figures as limit_us and value_us, or limit_ms and
// value_ms.
func (c Check) MarshalJSON() ([]byte, error) {
	j := checkJSON{Name: c.Name, Met: c.Met}
	if c.Unit == "ms" {
		j.LimitMS, j.ValueMS = &c.Limit, &c.Value
	} else {
		j.LimitUS, j.ValueUS = &c.Limit, &c.Value
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Check) UnmarshalJSON(b []byte) error {
	var j checkJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Check{Name: j.Name, Unit: "us", Met: j.Met}
	limit, value := j.LimitUS, j.ValueUS
	if j.LimitMS != nil || j.ValueMS != nil {
		c.Unit, limit, value = "ms", j.LimitMS, j.ValueMS
	}
	if limit != nil {
		c.Limit = *limit
	}
	if value != nil {
		c.Value = *value
	}
	return nil
}

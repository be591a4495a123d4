// Reloads the page every 5 s while the "refresh" box is ticked (remembered per browser),
// unless the user is typing into a form.
(function () {
  "use strict";
  var box = document.getElementById("auto-refresh");
  if (!box) { return; }
  var key = "lars-console-refresh";
  try { box.checked = window.localStorage.getItem(key) === "1"; } catch (e) { box.checked = false; }
  box.addEventListener("change", function () {
    try { window.localStorage.setItem(key, box.checked ? "1" : "0"); } catch (e) { /* storage off */ }
  });
  window.setInterval(function () {
    var a = document.activeElement;
    var typing = a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT") && a !== box;
    if (box.checked && !typing) { window.location.reload(); }
  }, 5000);
}());

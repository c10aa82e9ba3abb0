// Forms: when a page comes back with errors, move the focus to their summary, so that it is
// read out first and each error's link leads to its field (WCAG 3.3.1).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary[tabindex]");
  if (summary) {
    summary.focus();
  }
});

// Posts the deep linking response back to the LMS as soon as the page loads (LTI Deep Linking 2.0).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("lti-autopost");
  if (form) { form.submit(); }
});

// After an action (a POST answered with a redirect back), the page opens with a message saying what
// happened. Focus moves to it, so a screen reader reads it out (a live region that is already there
// at load is not announced) and a keyboard user continues from the content, not from the top of the
// page. A form answered with errors focuses its error summary instead (error-summary.js).
(function () {
  var flash = document.querySelector('main > .flash');
  if (!flash || document.querySelector('.error-summary')) return;
  flash.focus();
})();

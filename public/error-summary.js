// Progressive enhancement for forms answered with errors: focus moves to the error summary, so a
// screen reader reads it out and a keyboard user starts there; its links then move focus to the field
// (a plain "#id" jump only scrolls). The page works the same without it.
(function () {
  var summary = document.querySelector('.error-summary');
  if (!summary) return;
  summary.focus();
  summary.addEventListener('click', function (e) {
    var link = e.target && e.target.closest ? e.target.closest('a[href^="#"]') : null;
    if (!link) return;
    var field = document.getElementById(link.getAttribute('href').slice(1));
    if (!field) return;
    e.preventDefault();
    field.focus();
    var label = document.querySelector('label[for="' + field.id + '"]');
    (label || field).scrollIntoView({ block: 'center' });
  });
})();

// Progressive enhancement for the takedown form: says, as URLs are typed, which are on this site.
// The form works the same without it.
(function () {
  var box = document.querySelector('textarea[data-url-check]');
  var out = document.getElementById('url-check');
  if (!box || !out || !window.fetch) return;
  var timer;
  function check() {
    var urls = box.value.split(/\r?\n/).map(function (s) { return s.trim(); }).filter(Boolean).slice(0, 20);
    if (!urls.length) { out.textContent = ''; return; }
    var q = urls.map(function (u) { return 'url=' + encodeURIComponent(u); }).join('&');
    fetch(box.getAttribute('data-url-check') + '?' + q, { headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        out.textContent = '';
        var list = document.createElement('ul');
        data.targets.forEach(function (t) {
          var li = document.createElement('li');
          li.className = t.matched ? 'url-ok' : 'url-missing';
          li.textContent = (t.matched ? 'On this site: ' + (t.title || t.url) : 'Not found on this site: ' + t.url);
          list.appendChild(li);
        });
        out.appendChild(list);
      })
      .catch(function () { /* the server decides at submission anyway */ });
  }
  box.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(check, 600); });
  if (box.value.trim()) check();
})();

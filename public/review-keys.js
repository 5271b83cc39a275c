// Keyboard shortcuts for the review queue and the notice page (SPEC §15). Progressive enhancement
// only: every action stays a form that works without this script. No shortcut fires while typing in
// a field, with a modifier key held, or while the help is open (except Escape and ?).
//   queue:  j / k move between notices, o or Enter open, x select, c claim, a / r / i open the notice
//           at its approve / reject / question form, ? help
//   notice: j / k next / previous notice of the same filter, u back to the queue, c claim,
//           a / r / i go to the approve / reject / question form, ? help
// What happens is said in a live region (#kb-live), and focus goes where the work continues.
(function () {
  var root = document.getElementById('kb');
  if (!root) return;
  var page = root.getAttribute('data-page');
  var live = document.getElementById('kb-live');
  var help = document.getElementById('kb-help');
  var hint = document.getElementById('kb-hint');
  if (hint) hint.hidden = false;

  function say(text) {
    if (!live) return;
    // Cleared first so the same words twice are read twice.
    live.textContent = '';
    window.setTimeout(function () { live.textContent = text; }, 30);
  }

  function typing(el) {
    if (!el || !el.tagName) return false;
    var tag = el.tagName;
    if (tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable) return true;
    if (tag !== 'INPUT') return false;
    var type = (el.getAttribute('type') || 'text').toLowerCase();
    return ['checkbox', 'radio', 'button', 'submit', 'reset'].indexOf(type) < 0;
  }

  function toggleHelp(show) {
    if (!help) return;
    help.hidden = show === undefined ? !help.hidden : !show;
    if (!help.hidden) {
      help.focus();
      say('Keyboard shortcuts shown. Escape closes them.');
    } else say('Keyboard shortcuts closed.');
  }
  var close = document.getElementById('kb-help-close');
  if (close) close.addEventListener('click', function () { toggleHelp(false); });

  function csrf() {
    var input = document.querySelector('input[name="_csrf"]');
    return input ? input.value : '';
  }

  function post(action, fields) {
    var form = document.createElement('form');
    form.method = 'post';
    form.action = action;
    fields._csrf = csrf();
    Object.keys(fields).forEach(function (k) {
      var input = document.createElement('input');
      input.type = 'hidden';
      input.name = k;
      input.value = fields[k];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  // ---- the queue ----
  var rows = page === 'queue' ? Array.prototype.slice.call(document.querySelectorAll('tr[data-ref]')) : [];
  var current = -1;
  function describe(row) {
    var cells = row.querySelectorAll('td');
    var status = row.getAttribute('data-status') || '';
    return row.getAttribute('data-ref') + ', ' + status.replace('_', ' ') + ', ' + (cells[2] ? cells[2].textContent.trim() : '');
  }
  function move(to) {
    if (!rows.length) return say('No notices on this page.');
    if (current >= 0) rows[current].classList.remove('current');
    current = Math.max(0, Math.min(rows.length - 1, to));
    var row = rows[current];
    row.classList.add('current');
    var link = row.querySelector('a[data-open]');
    if (link) link.focus();
    say('Notice ' + (current + 1) + ' of ' + rows.length + ': ' + describe(row));
  }
  function currentRow() {
    if (current < 0) {
      // A notice link focused by Tab counts as the current notice too.
      var a = document.activeElement;
      var row = a && a.closest ? a.closest('tr[data-ref]') : null;
      if (row) current = rows.indexOf(row);
    }
    return current >= 0 ? rows[current] : null;
  }
  function openAt(hash) {
    var row = currentRow();
    if (!row) return say('Move to a notice first with j or k.');
    window.location.href = row.getAttribute('data-href') + (hash || '');
  }

  // ---- the notice page ----
  function focusForm(id, what) {
    var form = document.getElementById(id);
    if (!form) return say(what + ' is not possible on this notice now' + (document.getElementById('claim-form') ? ': claim it first with c.' : '.'));
    var target = form.querySelector('[data-kb-start]') || form.querySelector('input:not([type="hidden"]), textarea, button');
    if (target) target.focus();
    form.scrollIntoView({ block: 'center' });
    say(form.getAttribute('data-kb-say') || what);
  }
  function claimHere() {
    var form = document.getElementById('claim-form');
    if (!form) return say('This notice cannot be claimed: it is not pending.');
    say('Claiming…');
    form.submit();
  }
  function go(attr, none) {
    var href = root.getAttribute(attr);
    if (!href) return say(none);
    window.location.href = href;
  }

  var queueKeys = {
    j: function () { move(current + 1); },
    k: function () { move(current < 0 ? 0 : current - 1); },
    o: function () { openAt(''); },
    x: function () {
      var row = currentRow();
      if (!row) return say('Move to a notice first with j or k.');
      var box = row.querySelector('input[type="checkbox"]');
      box.checked = !box.checked;
      say(row.getAttribute('data-ref') + (box.checked ? ' selected' : ' not selected'));
    },
    c: function () {
      var row = currentRow();
      if (!row) return say('Move to a notice first with j or k.');
      if (row.getAttribute('data-status') !== 'pending') return say(row.getAttribute('data-ref') + ' is not pending: it cannot be claimed.');
      say('Claiming ' + row.getAttribute('data-ref') + '…');
      post('/notices/' + row.getAttribute('data-ref') + '/claim', { version: row.getAttribute('data-version'), from: root.getAttribute('data-from') || '' });
    },
    a: function () { openAt('#approve-form'); },
    r: function () { openAt('#reject-form'); },
    i: function () { openAt('#question-form'); },
  };
  var noticeKeys = {
    j: function () { go('data-next', 'No next notice in this view.'); },
    k: function () { go('data-prev', 'No previous notice in this view.'); },
    u: function () { go('data-queue', ''); },
    c: claimHere,
    a: function () { focusForm('approve-form', 'Approve'); },
    r: function () { focusForm('reject-form', 'Reject'); },
    i: function () { focusForm('question-form', 'Request information'); },
  };
  var keys = page === 'queue' ? queueKeys : noticeKeys;

  document.addEventListener('keydown', function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e.target)) return;
    if (e.key === 'Escape' && help && !help.hidden) return toggleHelp(false);
    if (e.key === '?') {
      e.preventDefault();
      return toggleHelp();
    }
    if (help && !help.hidden) return;
    if (page === 'queue' && e.key === 'Enter' && currentRow() && document.activeElement === document.body) return openAt('');
    var run = keys[e.key];
    if (!run) return;
    e.preventDefault();
    run();
  });

  // Arriving at a notice from the queue's a / r / i: focus that form.
  if (page === 'notice' && /^#(approve|reject|question)-form$/.test(window.location.hash)) {
    var id = window.location.hash.slice(1);
    focusForm(id, { 'approve-form': 'Approve', 'reject-form': 'Reject', 'question-form': 'Request information' }[id]);
  }
})();

// Live queue counts and presence (SPEC §15), progressive enhancement: the pages work the same
// without this script. It reads GET /live (server-sent events) and writes plain text only.
(function () {
  'use strict';
  if (!window.EventSource) return;
  var box = document.querySelector('[data-live-notice]');
  var queue = document.querySelector('[data-live-queue]');
  if (!box && !queue) return;
  var ref = box ? box.getAttribute('data-live-notice') : null;
  var shownVersion = box ? Number(box.getAttribute('data-live-version')) : null;
  var source = new EventSource('/live' + (ref ? '?notice=' + encodeURIComponent(ref) : ''));

  function text(id, value) {
    var el = document.getElementById(id);
    if (el && el.textContent !== value) el.textContent = value;
  }
  function names(list) {
    if (list.length <= 1) return list.join('');
    return list.slice(0, -1).join(', ') + ' and ' + list[list.length - 1];
  }
  function label(status) {
    return String(status || '').replace('_', ' ');
  }

  source.addEventListener('presence', function (e) {
    var d = JSON.parse(e.data);
    if (!box || d.ref !== ref) return;
    var viewers = d.viewers.map(function (v) {
      return v.name;
    });
    var parts = [];
    if (viewers.length) parts.push(names(viewers) + (viewers.length === 1 ? ' is viewing' : ' are viewing'));
    if (d.holder) parts.push('held by ' + d.holder.name);
    var line = parts.join(' · ');
    text('live-presence-text', line ? line.charAt(0).toUpperCase() + line.slice(1) : 'Nobody else is viewing this notice.');
    box.hidden = false;
  });

  source.addEventListener('notice', function (e) {
    var d = JSON.parse(e.data);
    if (box && d.ref === ref && d.version !== shownVersion) {
      // Nothing is disabled: a decision on this stale page still gets the clear 409.
      text(
        'live-presence-change',
        'This notice changed since you opened it: now ' + label(d.status) + (d.holder ? ', held by ' + d.holder.name : '') + '. Reload to see it.',
      );
    }
    if (queue) text('live-counts-change', d.ref + ' is now ' + label(d.status) + (d.holder ? ' (' + d.holder.name + ')' : '') + '.');
  });

  source.addEventListener('counts', function (e) {
    if (!queue) return;
    var d = JSON.parse(e.data);
    var s = d.byStatus || {};
    text(
      'live-counts-text',
      'Live: ' + d.total + ' open (' + (s.pending || 0) + ' pending, ' + (s.in_review || 0) + ' in review, ' + (s.needs_info || 0) + ' needs info) · ' + d.overdue + ' overdue',
    );
    queue.hidden = false;
  });
})();

// Passkeys (WebAuthn): the browser half of /account/passkeys (add one) and /login/2fa (use one).
// Written here rather than taken from @simplewebauthn/browser: the whole job is two calls to
// navigator.credentials and base64url both ways, and a file of our own is served under our CSP
// ('self' scripts only) with nothing to bundle. A form marked data-passkey="register" or "sign-in"
// is shown only when the browser has passkeys; it asks its data-options URL for the options, hands
// them to the browser, and posts the answer as JSON to the form's action, with the form's CSRF token.
(function () {
  'use strict';
  var forms = document.querySelectorAll('form[data-passkey]');
  if (!forms.length || !window.PublicKeyCredential || !navigator.credentials) return;

  function toBuffer(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var bin = window.atob(s);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }
  function toBase64url(buf) {
    var bytes = new Uint8Array(buf);
    var s = '';
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return window.btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function post(url, csrf, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body || {}),
    }).then(function (res) {
      // The half-signed-in step timed out, or the page needs a fresh proof: follow the server.
      if (res.redirected) {
        location.assign(res.url);
        return new Promise(function () {});
      }
      return res.json().then(function (data) {
        if (!res.ok) throw new Error((data.errors && data.errors[0] && data.errors[0].message) || 'That did not work. Try again.');
        return data;
      });
    });
  }
  function serialise(cred, register) {
    var r = cred.response;
    var json = {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(r.clientDataJSON) },
    };
    if (register) {
      json.response.attestationObject = toBase64url(r.attestationObject);
      json.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(r.authenticatorData);
      json.response.signature = toBase64url(r.signature);
      if (r.userHandle) json.response.userHandle = toBase64url(r.userHandle);
    }
    return json;
  }

  Array.prototype.forEach.call(document.querySelectorAll('[data-passkey-unsupported]'), function (p) {
    p.hidden = true;
  });
  Array.prototype.forEach.call(forms, function (form) {
    var register = form.getAttribute('data-passkey') === 'register';
    var csrf = form.querySelector('input[name=_csrf]').value;
    var problem = form.querySelector('.passkey-error');
    var button = form.querySelector('button[type=submit]');
    form.hidden = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var nameField = form.querySelector('input[name=name]');
      var nextField = form.querySelector('input[name=next]');
      var extra = nameField ? { name: nameField.value } : {};
      problem.hidden = true;
      button.disabled = true;
      post(form.getAttribute('data-options'), csrf, extra)
        .then(function (o) {
          o.challenge = toBuffer(o.challenge);
          (o.excludeCredentials || o.allowCredentials || []).forEach(function (c) {
            c.id = toBuffer(c.id);
          });
          if (register) {
            o.user.id = toBuffer(o.user.id);
            return navigator.credentials.create({ publicKey: o });
          }
          return navigator.credentials.get({ publicKey: o });
        })
        .then(function (cred) {
          var body = { credential: serialise(cred, register) };
          if (nameField) body.name = nameField.value;
          if (nextField) body.next = nextField.value;
          return post(form.action, csrf, body);
        })
        .then(function (data) {
          location.assign(data.redirect);
        })
        .catch(function (e) {
          button.disabled = false;
          problem.textContent =
            e && e.name === 'NotAllowedError' ? 'The passkey was not used (cancelled or timed out). Try again.' : (e && e.message) || 'That did not work.';
          problem.hidden = false;
          problem.focus();
        });
    });
  });
})();

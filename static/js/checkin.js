/* The check-in page a host's link opens (eventrunner/web/templates/checkin.html): sends a
 * check-in to the form's action, POST /api/checkin/{token}, as multipart (with the photo
 * when there is one). One Idempotency-Key per check-in, kept until the server has taken it:
 * a tap retried after a lost answer is the same check-in, never a second one. What the
 * server says is set as text only. Needs static/js/i18n.js (ER.t) first. ES2020, no
 * modules: every page script runs in OBS 28's Chromium 103 too. */
(function () {
  'use strict';
  var ER = window.ER;
  var form = document.getElementById('checkin-form');
  if (!ER || !form) return;

  var MAX_PHOTO_BYTES = 10 * 1024 * 1024;   // the server's limit (checkins/photos.py)
  var SPEAK_AFTER_MS = 1000;                // the count is spoken once typing pauses
  var FIELDS = /\b(headcount|message|photo)\b/; // the field an error names gets the focus

  function field(name) { return document.querySelector('[data-field="' + name + '"]'); }

  var message = form.elements.message;
  var photo = form.elements.photo;
  var count = field('count');
  var countSpoken = field('count-spoken');
  var errorLine = field('error');
  var submit = field('submit');
  var thanks = field('thanks');
  var label = submit.textContent;
  var idempotencyKey = null;  // one check-in's, until it is taken
  var speakTimer = 0;

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
  }

  function countText() {
    var left = Math.max(0, message.maxLength - message.value.length);
    return ER.nt('{n} character left', '{n} characters left', left, { n: left });
  }

  function updateCount(speak) {
    var text = countText();
    count.textContent = text;
    window.clearTimeout(speakTimer);
    if (speak) speakTimer = window.setTimeout(function () { countSpoken.textContent = text; }, SPEAK_AFTER_MS);
  }

  function showError(text, fieldName) {
    Array.prototype.forEach.call(form.elements, function (el) { el.removeAttribute('aria-invalid'); });
    errorLine.hidden = !text;
    errorLine.textContent = text || '';
    var bad = fieldName && form.elements[fieldName];
    if (bad) {
      bad.setAttribute('aria-invalid', 'true');
      bad.focus();
    }
  }

  function refusal(response, answer) {
    if (response.status === 429) {
      var wait = response.headers.get('Retry-After');
      return wait ? ER.t('Too many check-ins from this link; try again in {seconds} s.', { seconds: wait })
        : ER.t('Too many check-ins from this link; try again shortly.');
    }
    if (response.status === 404) return ER.t('This check-in link is not valid. Ask the organizers for a new one.');
    return answer && typeof answer.error === 'string' ? answer.error
      : ER.t('The server answered {status}; try again.', { status: response.status });
  }

  function done() {
    idempotencyKey = null;
    form.reset();
    updateCount(false);
  }

  function send() {
    var data = new FormData();
    data.append('headcount', form.elements.headcount.value.trim());
    data.append('message', message.value);
    if (photo.files.length) data.append('photo', photo.files[0]);
    return fetch(form.getAttribute('action'), {
      method: 'POST',
      headers: { 'Idempotency-Key': idempotencyKey },
      body: data,
      credentials: 'same-origin'
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.status !== 201) {
          var text = refusal(response, answer);
          var named = FIELDS.exec(text);
          showError(text, named ? named[1] : null);
          return;
        }
        done();
        thanks.textContent = answer.status === 'approved'
          ? ER.t('Thank you! Your update is with the organizers; it is on the page now.')
          : ER.t('Thank you! Your update is with the organizers; it appears once they approve it.');
        thanks.focus();
      });
    }, function () {
      // The answer may be lost after the server took it: the same key goes with the retry.
      showError(ER.t('Could not reach the server; check your connection and send it again.'));
    });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (submit.disabled) return;
    thanks.textContent = '';
    if (photo.files.length && photo.files[0].size > MAX_PHOTO_BYTES) {
      showError(ER.t('The photo is too large: at most 10 MB.'), 'photo');
      return;
    }
    showError('');
    if (!idempotencyKey) idempotencyKey = newKey();
    submit.disabled = true;
    submit.textContent = ER.t('Sending…');
    function finish() {
      submit.disabled = false;
      submit.textContent = label;
      // Disabled, the button lost the focus: back to it unless the answer moved it on.
      if (!document.activeElement || document.activeElement === document.body) submit.focus();
    }
    send().then(finish, finish);
  });
  message.addEventListener('input', function () { updateCount(true); });
  updateCount(false);
})();

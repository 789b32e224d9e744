/* The "Share this page" panel (templates/share.html, share_panel): the Mastodon server to
 * share to, the copy-link button and the phone's own share sheet. Without JS the links
 * work as the server rendered them (Mastodon through mastodon.social) and the link can be
 * selected and copied by hand. Texts are set as text, never as markup. */
(function () {
  'use strict';
  var ER = window.ER;
  var STATUS_MS = 5000;

  var panel = document.querySelector('[data-share-panel]');
  if (!panel) return;
  function $(selector) { return panel.querySelector(selector); }

  function shareText() {
    return panel.dataset.shareMessage + ' ' + $('[data-share-link]').value;
  }

  function setupMastodon() {
    var input = $('[data-share-mastodon]');
    var error = $('[data-share-mastodon-error]');
    var link = $('[data-share-to="mastodon"]');
    function use(host) {
      link.setAttribute('href', 'https://' + host + '/share?text=' + encodeURIComponent(shareText()));
    }
    function check() {
      var host = ER.mastodonHost(input.value);
      input.setAttribute('aria-invalid', host ? 'false' : 'true');
      error.hidden = Boolean(host);
      return host;
    }
    var stored = ER.mastodonHost(ER.storage.get(ER.MASTODON_KEY));
    if (stored) {
      input.value = stored;
      use(stored);
    }
    // The link follows every valid name typed; the error waits until the field is left,
    // so it does not flash while "mastodon.soc" is on its way to being a name.
    input.addEventListener('input', function () {
      var host = ER.mastodonHost(input.value);
      if (!host) return;
      error.hidden = true;
      input.setAttribute('aria-invalid', 'false');
      use(host);
      ER.storage.set(ER.MASTODON_KEY, host);
    });
    input.addEventListener('change', check);
    link.addEventListener('click', function (event) {
      if (check()) return;
      event.preventDefault();
      input.focus();
    });
  }

  function setupCopy() {
    var button = $('[data-share-copy]');
    var field = $('[data-share-link]');
    var status = $('[data-share-status]');
    var timer = null;
    function say(text) {
      status.textContent = text;
      clearTimeout(timer);
      // Emptied again, so copying twice is announced twice.
      timer = setTimeout(function () { status.textContent = ''; }, STATUS_MS);
    }
    button.hidden = false;
    button.addEventListener('click', function () {
      ER.copyText(field.value).then(function (ok) {
        if (ok) {
          say(ER.t('Link copied.'));
          return;
        }
        field.focus();
        field.select();
        say(ER.t('The link is selected: copy it by hand.'));
      });
    });
  }

  /* Phones share to any app they have (messages, WhatsApp, Signal ...). */
  function setupNativeShare() {
    var item = $('[data-share-native]');
    var button = item.querySelector('button');
    if (typeof navigator.share !== 'function') return;
    item.hidden = false;
    button.addEventListener('click', function () {
      navigator.share({
        title: panel.dataset.shareTitle,
        text: panel.dataset.shareMessage,
        url: $('[data-share-link]').value
      }).catch(function () { /* closed without sharing */ });
    });
  }

  setupMastodon();
  setupCopy();
  setupNativeShare();
})();

/* The page's language: messages from the server's catalog (eventrunner/i18n: the same
 * .po files as the templates, as JSON in the page) and the schedule's own translations.
 * A message without a translation stays English. ES2020: OBS 28 embeds Chromium 103. */
(function () {
  'use strict';
  var ER = (window.ER = window.ER || {});
  var messages = null;

  function catalog() {
    if (messages === null) {
      var el = document.getElementById('messages');
      try { messages = el ? JSON.parse(el.textContent) : {}; } catch (e) { messages = {}; }
    }
    return messages;
  }

  /* "{name}" placeholders, from `vars`; an unknown one stays as written. */
  function fill(text, vars) {
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(vars, key) ? String(vars[key]) : whole;
    });
  }

  ER.lang = document.documentElement.lang || 'en';

  /* ER.t('Live now'), ER.t('Started {time}', {time: t}). */
  ER.t = function (message, vars) {
    var text = catalog()[message];
    return fill(typeof text === 'string' && text ? text : message, vars);
  };

  /* ER.nt('{n} action', '{n} actions', n, {n: shown}): English and Spanish share the
   * plural rule (n != 1); eventrunner/i18n/catalogs.py refuses a catalog with another. */
  ER.nt = function (singular, plural, n, vars) {
    var forms = catalog()[singular];
    var form = n === 1 ? 0 : 1;
    var text = Array.isArray(forms) && forms[form] ? forms[form] : (form ? plural : singular);
    return fill(text, vars);
  };

  /* A schedule text in the page's language when the schedule translates it:
   * ER.tx(segment, 'title'). The server's templates do the same (core/languages.py). */
  ER.tx = function (item, field) {
    if (!item) return undefined;
    var own = item.translations && item.translations[ER.lang];
    var value = own ? own[field] : undefined;
    return value === undefined || value === null ? item[field] : value;
  };
})();

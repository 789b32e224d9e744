/* Top post: the post producers put on air (the `posts` topic's `top`) on a card at the
 * right (?align=left: the left, like the counter), under the post counter, above up next: the platform (Bluesky, Mastodon, X, or
 * the name a webhook gave), the hashtag and the text. Long text gets smaller type, then is
 * cut after the last line that fits (O.fitText): nothing leaves the card.
 *
 * Entrances go through O.Graphic, keyed on the post (its platform, time and text), so a
 * reload or a reconnect never replays one; another post taken swaps the card (the old one
 * goes off, the new one comes on). Hidden while `top` is absent. Like the counter, it
 * steps aside while a stat or quote card is on air (the `card` slot) unless ?cards=stay.
 * Someone on the internet wrote the post: it is only ever set as text, and its `url` is
 * not used (nothing on an overlay is clicked). */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;
  var RETRY_MS = 500;          // a little over the exit in overlay.css
  var PLATFORMS = { bluesky: 'Bluesky', mastodon: 'Mastodon', x: 'X', twitter: 'X', threads: 'Threads' };
  var staysUnderCards = O.options.cards === 'stay';

  var root = document.querySelector('.top-post');
  var doc = null;        // the topic's document, once it has come
  var cardOn = false;    // a stat or quote card is on air

  function platformName(platform) {
    var name = String(platform || '');
    return Object.prototype.hasOwnProperty.call(PLATFORMS, name) ? PLATFORMS[name] : name;
  }

  function topOf(topic) {
    var top = topic && topic.top;
    return top && typeof top === 'object' && typeof top.text === 'string' && top.text.trim() ? top : null;
  }

  /* A short, stable name for a post (FNV-1a of its platform, time and text): the same post
   * gets the same key after a reload, and the whole text does not land in an attribute. */
  function keyOf(top) {
    var text = String(top.platform || '') + '\n' + String(top.at || '') + '\n' + top.text;
    var hash = 0x811c9dc5;
    for (var i = 0; i < text.length; i += 1) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash.toString(16) + '-' + text.length.toString(16);
  }

  function fill(el, top) {
    ER.setText(O.field(el, 'platform'), platformName(top.platform));
    ER.setText(O.field(el, 'hashtag'), String((doc && doc.hashtag) || ''));
    O.fitText(O.field(el, 'text'), top.text.trim());
    el.dataset.platform = String(top.platform || '');
  }

  var graphic = new O.Graphic(root, fill, 'post');

  function draw(instant) {
    // Until the topic's first document nothing is known: that one is put up without an
    // entrance, like every overlay after a reload.
    if (!doc) return;
    var top = staysUnderCards || !cardOn ? topOf(doc) : null;
    var key = top ? keyOf(top) : null;
    graphic.update(key, top, instant);
    // The card of another post is still on its way out: the new one, once it is gone.
    if (key !== null && graphic.shown !== key) setTimeout(function () { draw(false); }, RETRY_MS);
  }

  // overlay.js opens the one connection: it follows `posts` too.
  ER.follow('posts', function (topic) {
    doc = topic;
    draw(false);
  });
  O.start(function (show, d, now, instant) {
    cardOn = O.yields('top-post', d);
    draw(instant);
    return O.untils(d);   // when the card comes off by itself, come back
  });
})();

/* Call to action: the cta slot (text, and its address when it has one), in the bottom strip;
 * the check-in ticker steps aside for it. Long texts get smaller type, then wrap. */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;

  var graphic = new O.Graphic(document.querySelector('.cta'), function (root, cue) {
    // Shown as text only: nobody clicks a video. Anything but http(s) is left out.
    var url = ER.safeUrl(ER.tx(cue, 'url'));
    O.fitText(O.field(root, 'url'), url && !/^mailto:/i.test(url) ? O.shortUrl(url) : '');
    O.fitText(O.field(root, 'text'), ER.tx(cue, 'text') || '');   // after the address, which takes its room
  });

  O.start(function (doc, d, now, instant) {
    var on = d.graphics.cta;
    graphic.update(on ? on.cue.id : null, on && on.cue, instant);
    return [on && on.until];   // it comes off by itself then
  });
})();

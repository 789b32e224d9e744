/* Call to action: the cta slot (text, and its address when it has one). */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;

  var graphic = new O.Graphic(document.querySelector('.cta'), function (root, cue) {
    ER.setText(O.field(root, 'text'), ER.tx(cue, 'text') || '');
    // Shown as text only: nobody clicks a video. Anything but http(s) is left out.
    var url = ER.safeUrl(ER.tx(cue, 'url'));
    ER.setText(O.field(root, 'url'), url && !/^mailto:/i.test(url) ? O.shortUrl(url) : '');
  });

  O.start(function (doc, d, now, instant) {
    var on = d.graphics.cta;
    graphic.update(on ? on.cue.id : null, on && on.cue, instant);
    return [on && on.until];   // it comes off by itself then
  });
})();

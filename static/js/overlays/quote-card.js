/* Quote card: the card slot when it holds a quote cue (text, attribution). */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;

  var graphic = new O.Graphic(document.querySelector('.quote-card'), function (root, cue) {
    var text = O.field(root, 'text');
    var quote = ER.tx(cue, 'text') || '';
    ER.setText(text, quote);
    text.className = 'text ' + O.lengthClass(quote);   // long quotes get smaller type
    ER.setText(O.field(root, 'attribution'), ER.tx(cue, 'attribution') || '');
  });

  O.start(function (doc, d, now, instant) {
    var on = d.graphics.card;
    var cue = on && on.cue.kind === 'quote' ? on.cue : null;
    graphic.update(cue ? cue.id : null, cue, instant);
    return [on && on.until];   // it comes off by itself then
  });
})();

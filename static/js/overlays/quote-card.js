/* Quote card: the card slot when it holds a quote cue (text, attribution), in the side slot
 * under the clock. */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;

  var graphic = new O.Graphic(document.querySelector('.quote-card'), function (root, cue) {
    // Long quotes get smaller type, then are cut.
    O.fitText(O.field(root, 'text'), ER.tx(cue, 'text') || '');
    O.fitText(O.field(root, 'attribution'), ER.tx(cue, 'attribution') || '');
  });

  O.start(function (doc, d, now, instant) {
    var on = d.graphics.card;
    var cue = on && on.cue.kind === 'quote' ? on.cue : null;
    graphic.update(cue ? cue.id : null, cue, instant);
    return [on && on.until];   // it comes off by itself then
  });
})();

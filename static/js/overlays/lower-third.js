/* Lower third: the cue in the lower_third slot (name and role), in the lower band; up next
 * steps aside for it. Long names get smaller type, then are cut. ?align=right mirrors it. */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;

  var graphic = new O.Graphic(document.querySelector('.lower-third'), function (root, cue) {
    O.fitText(O.field(root, 'name'), ER.tx(cue, 'name') || '');
    O.fitText(O.field(root, 'role'), ER.tx(cue, 'role') || '');
  });

  O.start(function (doc, d, now, instant) {
    var on = d.graphics.lower_third;
    graphic.update(on ? on.cue.id : null, on && on.cue, instant);
    return [on && on.until];   // it comes off by itself then
  });
})();

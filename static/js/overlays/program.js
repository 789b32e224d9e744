/* The program overlay: every graphic in its slot, in one page (overlays/program.html loads
 * each graphic's own script; overlay.js gives them one connection and one render loop).
 * What only one page can do: two graphics that take turns in one place hand it over. The
 * one coming on waits until the other has gone (the all-day graphics of overlay.js's
 * YIELDS and what they step aside for; the two cards of the card slot), so they never
 * share the screen even mid-transition, as two separate browser sources would for a
 * moment. */
(function () {
  'use strict';
  var O = window.ER.overlay;
  var pairs = [['stat-card', 'quote-card']];
  Object.keys(O.YIELDS).forEach(function (name) {
    O.YIELDS[name].forEach(function (over) { pairs.push([name, over]); });
  });
  pairs.forEach(function (pair) {
    var a = O.graphics[pair[0]];
    var b = O.graphics[pair[1]];
    a.after.push(b);
    b.after.push(a);
  });
})();

// With JavaScript the town select narrows the village list; without it the grouped list works alone.
(function () {
  var town = document.getElementById('town');
  var village = document.getElementById('village');
  document.getElementById('town-field').hidden = false;
  var chosen = village.options[village.selectedIndex];
  if (chosen && chosen.parentNode.tagName === 'OPTGROUP') { town.value = chosen.parentNode.label; }
  function narrow() {
    var groups = village.getElementsByTagName('optgroup');
    for (var i = 0; i < groups.length; i++) {
      var shown = !town.value || groups[i].label === town.value;
      groups[i].hidden = !shown;
      groups[i].disabled = !shown;
    }
    var current = village.options[village.selectedIndex];
    if (current && current.parentNode.disabled) { village.value = ''; }
  }
  town.addEventListener('change', narrow);
  narrow();
})();

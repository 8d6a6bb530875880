// Buttons marked data-print open the browser's print dialog (where "Save as
// PDF" is one of the printers). They stay hidden without this script, since
// they would do nothing. (An inline onclick would be refused by the CSP.)
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-print]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function (e) {
      e.preventDefault();
      window.print();
    });
  }
})();

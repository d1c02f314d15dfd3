// Live progress over server-sent events; reloads the page once the workflow is done.
(function () {
  var live = document.getElementById("live");
  if (!live || !window.EventSource) { return; }
  var bar = document.getElementById("bar");
  var status = document.getElementById("status");
  var source = new EventSource(live.dataset.events);
  source.onmessage = function (event) {
    var state = JSON.parse(event.data);
    bar.value = state.percent;
    bar.textContent = state.percent + "%";
    status.textContent = state.status;
    if (state.done) { source.close(); window.location.reload(); }
  };
  source.onerror = function () { source.close(); setTimeout(function () { window.location.reload(); }, 2000); };
})();

"use strict";
// The labelling page: show the next pair, send the choice, show progress and the reward model's stats.
(function () {
  const KEYS = { ArrowLeft: "left", "1": "left", ArrowRight: "right", "2": "right",
                 ArrowDown: "equal", "3": "equal", ArrowUp: "cant_tell", "4": "cant_tell" };
  const SAID = { left: "left is better", right: "right is better", equal: "equally good", cant_tell: "can't tell" };
  const $ = (id) => document.getElementById(id);
  let current = null;   // the pair on screen
  let sending = false;  // one label in flight at a time
  let pollTimer = null;

  function setMessage(text, ok) {
    $("message").textContent = text;
    $("message").className = ok ? "ok" : "";
  }

  function setButtons(enabled) {
    document.querySelectorAll("button[data-choice]").forEach((b) => { b.disabled = !enabled; });
  }

  function formatValue(value) {
    if (typeof value === "number") {
      if (Number.isInteger(value)) return String(value);
      return Math.abs(value) >= 0.01 ? value.toFixed(3) : value.toPrecision(3);
    }
    return value === null ? "–" : String(value);
  }

  function showStats(state) {
    const body = $("stats").tBodies[0];
    body.replaceChildren();
    const stats = state.stats || {};
    Object.keys(stats).forEach((name) => {
      const row = body.insertRow();
      row.insertCell().textContent = name;
      row.insertCell().textContent = formatValue(stats[name]);
    });
    let status = state.retraining ? "retraining…" : (state.stats ? "up to date" : "no retraining connected");
    if (state.stats_error) status = "last retraining failed: " + state.stats_error;
    $("model-status").textContent = status;
  }

  function showState(state) {
    $("progress").textContent = state.labelled + " / " + state.budget + " labelled" +
      (state.remaining ? " · " + state.remaining + " waiting" : "");
    $("progress-bar").max = Math.max(1, state.budget);
    $("progress-bar").value = Math.min(state.labelled, state.budget);
    showStats(state);
    const pair = state.pair;
    if (pair && (!current || current.pair_id !== pair.pair_id)) {
      current = pair;
      $("pair-id").textContent = "pair " + pair.pair_id + " · round " + pair.round;
      $("left-clip").src = pair.left_url;
      $("right-clip").src = pair.right_url;
    }
    if (!pair) current = null;
    $("pair").hidden = !pair;
    $("idle").hidden = !!pair;
    $("idle-text").textContent = state.remaining ? "Waiting for the clips of the queued pairs…" :
      "Nothing left to label. New pairs appear here when the loop queues them.";
    setButtons(!!pair && !sending);
    schedulePoll(!pair || state.retraining ? 1500 : 5000);
  }

  function schedulePoll(delay) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(refresh, delay);
  }

  async function refresh() {
    try {
      const response = await fetch("/api/state", { cache: "no-store" });
      if (!response.ok) throw new Error((await response.json()).error);
      showState(await response.json());
    } catch (error) {
      setMessage("Cannot reach the labelling server (" + error.message + "); retrying…", false);
      schedulePoll(2000);
    }
  }

  async function choose(choice) {
    if (!current || sending) return;
    sending = true;
    setButtons(false);
    const pairId = current.pair_id;
    try {
      const response = await fetch("/api/labels", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ pair_id: pairId, choice: choice }) });
      const reply = await response.json();
      if (response.status === 201) {
        setMessage("Saved: pair " + pairId + " → " + SAID[choice] + ".", true);
        sending = false;
        showState(reply.state);
        return;
      }
      // 409: someone (another tab, another labeller) labelled it first; move on.
      setMessage(response.status === 409 ? reply.error + "; showing the next pair." : "Not saved: " + reply.error, false);
    } catch (error) {
      setMessage("Not saved (server unreachable); choose again when it is back.", false);
    }
    sending = false;
    refresh();
  }

  document.querySelectorAll("button[data-choice]").forEach((button) => {
    button.addEventListener("click", () => choose(button.dataset.choice));
  });
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || !(event.key in KEYS)) return;
    event.preventDefault();
    choose(KEYS[event.key]);
  });
  refresh();
})();

// The header's notifications: asks the server every few seconds whether a job of this user
// ended, updates the unread count, says so to screen readers, and, where the person asked
// for it in this browser, raises a browser notification that opens the result.
// Without this script the header still shows the count as of the page's rendering.
(function () {
  "use strict";
  var link = document.getElementById("notifications-link");
  if (!link) { return; }
  var statusUrl = link.dataset.statusUrl;
  var pollMs = Math.max(1, Number(link.dataset.pollSeconds) || 15) * 1000;
  var live = document.getElementById("notifications-live");
  // Shared by this browser's tabs: whether it raises notifications, and the newest one raised.
  var OPTED_IN = "phonoglyph-browser-notifications";
  var RAISED_UP_TO = "phonoglyph-browser-notifications-raised-up-to";
  // Kept while the tab lives: the newest notification its pages have shown, so the next page
  // announces what arrived in between.
  var SEEN = "phonoglyph-notifications-seen";
  var seen = number(stored("sessionStorage", SEEN));
  var delay = pollMs;

  function number(value) { return value === null ? null : Number(value); }

  // Reaching a storage can itself throw (storage blocked), hence the names.
  function stored(storage, key) {
    try { return window[storage].getItem(key); } catch (error) { return null; }
  }

  function store(storage, key, value) {
    try {
      if (value === null) {
        window[storage].removeItem(key);
      } else {
        window[storage].setItem(key, String(value));
      }
    } catch (error) { /* Storage refused (private mode): the choice lasts for this page only. */ }
  }

  function supported() { return "Notification" in window; }

  function browserOptedIn() {
    return supported() && window.Notification.permission === "granted" &&
      stored("localStorage", OPTED_IN) === "on";
  }

  function raisedUpTo() { return number(stored("localStorage", RAISED_UP_TO)); }

  // The count is in the navigation and, for phones where the navigation folds away, on the
  // Menu button.
  function showCount(value) {
    document.querySelectorAll("[data-notifications-unread]").forEach(function (element) {
      element.textContent = String(value);
    });
    document.querySelectorAll("[data-notifications-count]").forEach(function (element) {
      element.hidden = value === 0;
    });
  }

  function announce(fresh) {
    if (!fresh.length || !live) { return; }
    live.textContent = fresh.length === 1
      ? "New notification: " + fresh[0].title + "."
      : fresh.length + " new notifications. The latest: " + fresh[fresh.length - 1].title + ".";
  }

  function raise(item) {
    var shown = new window.Notification(item.title, {
      body: item.body,
      tag: "phonoglyph-notification-" + item.id,
    });
    shown.addEventListener("click", function () {
      window.focus();
      window.location.assign(item.url);
      shown.close();
    });
  }

  function handle(status) {
    showCount(status.unread);
    if (seen === null) { seen = status.latest_id; }
    announce(status["new"].filter(function (item) { return item.id > seen; }));
    if (browserOptedIn()) {
      var marker = raisedUpTo();
      if (marker !== null) {
        status["new"].forEach(function (item) { if (item.id > marker) { raise(item); } });
      }
      store("localStorage", RAISED_UP_TO, Math.max(marker || 0, status.latest_id));
    }
    seen = Math.max(seen, status.latest_id);
    store("sessionStorage", SEEN, seen);
  }

  function poll() {
    var marks = [seen, browserOptedIn() ? raisedUpTo() : null].filter(function (mark) {
      return mark !== null;
    });
    var url = statusUrl + (marks.length ? "?after=" + Math.min.apply(null, marks) : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (status) {
        delay = pollMs;
        handle(status);
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // Back off while the server is unreachable instead of hammering it.
        delay = Math.min(delay * 2, 5 * 60 * 1000);
        window.setTimeout(poll, delay);
      });
  }

  // "Notify me in this browser": the permission is asked for only after this click.
  function setUpOptIn(box) {
    var on = box.querySelector("[data-browser-notifications-on]");
    var off = box.querySelector("[data-browser-notifications-off]");
    var state = box.querySelector("[data-browser-notifications-state]");
    if (!supported()) { return; }
    box.hidden = false;

    function render() {
      var permission = window.Notification.permission;
      var active = browserOptedIn();
      on.hidden = active || permission === "denied";
      off.hidden = !active;
      if (active) {
        state.textContent = "This browser will notify you when a job finishes or fails.";
      } else if (permission === "denied") {
        state.textContent = "Notifications are blocked for this site in your browser's settings.";
      } else {
        state.textContent = "";
      }
    }

    on.addEventListener("click", function () {
      window.Notification.requestPermission().then(function (permission) {
        if (permission === "granted") {
          store("localStorage", OPTED_IN, "on");
          // From now on: what already happened is in the list, not raised again.
          if (seen !== null) {
            store("localStorage", RAISED_UP_TO, Math.max(raisedUpTo() || 0, seen));
          }
        }
        render();
      });
    });
    off.addEventListener("click", function () {
      store("localStorage", OPTED_IN, null);
      render();
    });
    render();
  }

  document.querySelectorAll("[data-browser-notifications]").forEach(setUpOptIn);
  poll();
})();

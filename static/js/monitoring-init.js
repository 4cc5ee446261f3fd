// Start the browser monitoring SDKs from the JSON block the server renders as
// <script type="application/json" id="monitoring-config">. Only ids leave the browser: text is
// masked in replays and autocapture, and page titles (which can hold file names) are dropped.
(function () {
  "use strict";
  var block = document.getElementById("monitoring-config");
  if (!block) {
    return;
  }
  var config = JSON.parse(block.textContent || "null");
  if (!config) {
    return;
  }

  if (config.sentry && window.PhonoglyphSentry) {
    var Sentry = window.PhonoglyphSentry;
    Sentry.init({
      dsn: config.sentry.dsn,
      environment: config.sentry.environment,
      release: config.sentry.release,
      sendDefaultPii: false,
      replaysSessionSampleRate: 0,
      replaysOnErrorSampleRate: config.sentry.replaysOnErrorSampleRate,
      integrations: [
        // Compression runs in a blob: worker, which the content security policy refuses.
        Sentry.replayIntegration({ maskAllText: true, blockAllMedia: true, useCompression: false }),
      ],
    });
    if (config.userId) {
      Sentry.setUser({ id: config.userId });
    }
  }

  if (config.posthog && window.posthog) {
    window.posthog.init(config.posthog.apiKey, {
      api_host: config.posthog.host,
      capture_pageview: true,
      autocapture: true,
      mask_all_text: true,
      mask_all_element_attributes: true,
      disable_session_recording: true,
      disable_surveys: true,
      before_send: function (event) {
        if (event && event.properties) {
          delete event.properties.$title;
        }
        return event;
      },
    });
    if (config.userId) {
      window.posthog.identify(config.userId);
    }
  }
})();

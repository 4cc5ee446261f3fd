// Entry point bundled by scripts/build-frontend into static/vendor/sentry-browser.min.js: the
// Sentry browser SDK with session replay, exposed as window.PhonoglyphSentry for
// static/js/monitoring-init.js.
import { init, replayIntegration, setUser } from "@sentry/browser";

window.PhonoglyphSentry = { init, replayIntegration, setUser };

/*
 * frozen-clock.js - injected after probe.js: the page starts with its
 * wall clock stopped (window.__hxAdvanceClock moves it), so a test can
 * see what the page does when a given time has passed, exactly.
 */
window.__hxFreezeClock();

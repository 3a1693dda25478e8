/*
 * main.js - the dashboard's entry point (the only script index.html
 * loads): each page module registers its route and the events it wants
 * when imported, then the shell signs in and connects, and the router
 * shows the page the URL names.
 */
import { route, startRouter } from './router.js';
import { start } from './shell.js';

/* The monitoring view is index.html's #view-monitor, filled by shell.js. */
route('monitor', '/', { title: 'Monitor', enter: function () {},
    events: ['NodeMetrics'] });

import './alerts.js';
import './charts.js';
import './admin.js';
import './vms.js';
import './vm.js';

start();
startRouter();

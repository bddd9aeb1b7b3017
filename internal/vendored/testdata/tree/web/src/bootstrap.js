// The application's entry point: loads its settings, then starts it.
import { settings } from "./settings.js";
import { start } from "./app.js";

start(settings);

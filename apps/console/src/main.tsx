import { render } from 'preact';
import { ConsoleApp } from './console-app.js';
import { ConsoleController } from './console-controller.js';

const controller = new ConsoleController({ win: window, storage: localStorage, apiBase: '/api/v1' });
render(<ConsoleApp controller={controller} />, document.getElementById('app') ?? document.body);
void controller.start();

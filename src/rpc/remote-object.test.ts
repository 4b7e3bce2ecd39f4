import { InProcessBus } from '../bus/in-process.js';
import { remoteObjectCases } from './remote-object.cases.js';

remoteObjectCases('remote objects over the in-process bus', async () => new InProcessBus());

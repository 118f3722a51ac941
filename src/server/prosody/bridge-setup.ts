// What a Prosody needs to run our bridge: the module's directory, IBR, the
// bridge on the VirtualHost and the component. Used by `npm start`'s local
// server and by the tests; server/prosody/example.cfg.lua says the same for admins.
import { fileURLToPath } from 'node:url';
import type { LocalProsodyOptions } from './local-prosody.js';

export const BRIDGE_MODULE_DIR = fileURLToPath(new URL('../../../server/prosody/', import.meta.url));

export function bridgeOptions(componentDomain: string, secret: string): Pick<LocalProsodyOptions, 'pluginPaths' | 'hostModules' | 'hostOptions' | 'components'> {
  return {
    pluginPaths: [BRIDGE_MODULE_DIR],
    hostModules: ['register', 'invites_bridge'],
    hostOptions: { allow_registration: true, invites_bridge_component: componentDomain },
    components: [{ domain: componentDomain, secret }],
  };
}

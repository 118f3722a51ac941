// The ad-hoc side in one import: the engine, and how to put it on an iqCallee.
export { Adhoc, type AdhocOptions } from './adhoc.js';
export { attachAdhoc, type AttachOptions, type IqRouter } from './attach.js';
export { INVITE_COMMANDS, NODE } from './commands.js';
export { FIELD, NS_INVITATION } from './forms.js';
export { NS_COMMANDS } from './stanzas.js';

export * from './password.js';
export * from './scram.js';
export * from './sasl.js';
export { saslPrep } from './saslprep.js';

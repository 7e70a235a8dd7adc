export * from './message.js';
export * from './line-fit.js';
export * from './casemap.js';
export * from './names.js';
export * as numerics from './numerics.js';
export * from './glob.js';

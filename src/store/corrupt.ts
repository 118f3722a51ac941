/** A store file we cannot read: start-up stops and the file is left as it is, for the admin to look at. */
export class StoreCorruptError extends Error {}

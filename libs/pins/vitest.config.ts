import { defineConfig } from 'vitest/config';
import { slipwayTestConfig } from '../../tools/testing/vitest-preset.js';

export default defineConfig(slipwayTestConfig());

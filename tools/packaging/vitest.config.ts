import { defineConfig } from 'vitest/config';
import { slipwayTestConfig } from '../../tools/vitest-preset.js';

export default defineConfig(slipwayTestConfig());

package dev.curvlab.nn.products;

/**
 * Flatten {@code (S, C) -> (C S)} per sample in (C, H, W) order: feature {@code c S + s} of the
 * output is channel c at position s. A permutation; its transpose is the inverse permutation, so
 * both directions walk the same index pairs ({@link #permute}).
 */
final class FlattenModule extends LinearModule {
    FlattenModule(int positions, int channels) {
        super(positions, channels, 1, positions * channels);
    }

    @Override
    void map(double[] in, int inOff, double[] out, int outOff, int b0, int nb, int k) {
        permute(in, inOff, out, outOff, nb, k, true);
    }

    @Override
    void mapTranspose(double[] gOut, int outOff, double[] gIn, int inOff, int b0, int nb, int k) {
        permute(gIn, inOff, gOut, outOff, nb, k, false);
    }

    /**
     * For every index pair {@code (b, s, j, c)} of the input layout and {@code (b, j, c S + s)} of the
     * flat layout: {@code flat = channels} when {@code forward}, else {@code channels = flat}.
     */
    private void permute(double[] channels, int channelsOff, double[] flat, int flatOff, int nb, int k, boolean forward) {
        int s0 = inPositions;
        int c0 = inChannels;
        int w = s0 * c0;
        for (int b = 0; b < nb; b++) {
            for (int s = 0; s < s0; s++) {
                for (int j = 0; j < k; j++) {
                    int at = channelsOff + ((b * s0 + s) * k + j) * c0;
                    int to = flatOff + (b * k + j) * w + s;
                    if (forward) {
                        for (int c = 0; c < c0; c++) {
                            flat[to + c * s0] = channels[at + c];
                        }
                    } else {
                        for (int c = 0; c < c0; c++) {
                            channels[at + c] = flat[to + c * s0];
                        }
                    }
                }
            }
        }
    }
}

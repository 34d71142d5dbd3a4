package dev.curvlab.nn.products;

/**
 * Flatten {@code (S, C) -> (C S)} per sample in (C, H, W) order: feature {@code c S + s} of the
 * output is channel c at position s. A permutation; its transpose is the inverse permutation.
 */
final class FlattenModule extends LinearModule {
    FlattenModule(int positions, int channels) {
        super(positions, channels, 1, positions * channels);
    }

    @Override
    void map(double[] in, int inOff, double[] out, int outOff, int b0, int nb, int k) {
        int s0 = inPositions;
        int c0 = inChannels;
        int w = s0 * c0;
        for (int b = 0; b < nb; b++) {
            for (int s = 0; s < s0; s++) {
                for (int j = 0; j < k; j++) {
                    int from = inOff + ((b * s0 + s) * k + j) * c0;
                    int to = outOff + (b * k + j) * w + s;
                    for (int c = 0; c < c0; c++) {
                        out[to + c * s0] = in[from + c];
                    }
                }
            }
        }
    }

    @Override
    void mapTranspose(double[] gOut, int outOff, double[] gIn, int inOff, int b0, int nb, int k) {
        int s0 = inPositions;
        int c0 = inChannels;
        int w = s0 * c0;
        for (int b = 0; b < nb; b++) {
            for (int s = 0; s < s0; s++) {
                for (int j = 0; j < k; j++) {
                    int to = inOff + ((b * s0 + s) * k + j) * c0;
                    int from = outOff + (b * k + j) * w + s;
                    for (int c = 0; c < c0; c++) {
                        gIn[to + c] = gOut[from + c * s0];
                    }
                }
            }
        }
    }
}

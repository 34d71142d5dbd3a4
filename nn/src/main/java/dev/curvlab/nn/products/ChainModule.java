package dev.curvlab.nn.products;

import dev.curvlab.nn.model.Activation;

/**
 * One module of a {@link ModuleChain} as a kernel on Java arrays. Every activation, tangent and
 * cotangent is stored sample-major and channels-last with the directions inside:
 * <pre>
 *   element (b, s, j, c) at ((b S + s) k + j) C + c
 * </pre>
 * for sample b, spatial position s of S (row-major over H, W; S = 1 for vectors), direction j of k
 * (k = 1 for the base pass) and channel c of C. With this layout a block of k directions through a
 * convolution is one im2col plus one product with the weights (rows (b, p, j)), and the parameter
 * terms are one product with the k directions side by side (rows (b, p), columns (j, f)).
 */
abstract sealed class ChainModule permits AffineModule, LinearModule {
    final int inPositions;
    final int inChannels;
    final int outPositions;
    final int outChannels;

    ChainModule(int inPositions, int inChannels, int outPositions, int outChannels) {
        this.inPositions = inPositions;
        this.inChannels = inChannels;
        this.outPositions = outPositions;
        this.outChannels = outChannels;
    }

    /** Features per sample at the input, {@code S C}. */
    final int inWidth() {
        return inPositions * inChannels;
    }

    /** Features per sample at the output. */
    final int outWidth() {
        return outPositions * outChannels;
    }

    /** The activation after the module's linear part (identity for pooling and flatten). */
    Activation activation() {
        return Activation.IDENTITY;
    }

    /** Per-sample elements of the module's largest scratch array per direction (im2col patches). */
    int scratchWidth() {
        return 0;
    }
}

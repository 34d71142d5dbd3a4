package dev.curvlab.nn.products;

/**
 * A parameter-free module that is a fixed linear map L of its input once the base pass has fixed
 * any data-dependent choice (max pooling's argmax): tangents go forward through L, cotangents back
 * through {@code L^T}, and both carry k directions per sample (layout of {@link ChainModule}).
 */
abstract sealed class LinearModule extends ChainModule permits PoolModule, FlattenModule {
    LinearModule(int inPositions, int inChannels, int outPositions, int outChannels) {
        super(inPositions, inChannels, outPositions, outChannels);
    }

    /** Fixes the data-dependent part of L from the base input of {@code batch} samples (k = 1); nothing by default. */
    void prepare(double[] in, int batch) {
    }

    /** {@code out = L in} for samples {@code b0 .. b0 + nb} (arrays hold the chunk from the offsets), k directions each. */
    abstract void map(double[] in, int inOff, double[] out, int outOff, int b0, int nb, int k);

    /** {@code gIn = L^T gOut} (overwrites gIn's chunk). */
    abstract void mapTranspose(double[] gOut, int outOff, double[] gIn, int inOff, int b0, int nb, int k);
}

package dev.curvlab.curvature.kfac;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One reusable buffer per layer for the pulled-back columns of a chunk, so that chunk after chunk the
 * GEMMs write into memory that is already mapped (fresh native memory costs page faults; on a busy
 * machine allocation dominated the factor loop). Views over a buffer's first elements serve smaller
 * (last) chunks.
 */
final class Workspace implements AutoCloseable {
    private final INDArray[] buffers;

    Workspace(int layers) {
        buffers = new INDArray[layers];
    }

    /** A C-order {@code [s, c, w]} array over layer {@code layer}'s buffer (contents undefined). */
    INDArray columns(int layer, long s, long c, long w) {
        long n = s * c * w;
        if (buffers[layer] == null || buffers[layer].length() < n) {
            Buffers.free(buffers[layer]);
            buffers[layer] = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {n}, 'c');
        }
        return Nd4j.create(buffers[layer].data(), new long[] {s, c, w}, new long[] {c * w, w, 1}, 0, 'c');
    }

    @Override
    public void close() {
        Buffers.free(buffers);
    }
}

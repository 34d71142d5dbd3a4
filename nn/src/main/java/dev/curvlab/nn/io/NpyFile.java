package dev.curvlab.nn.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads and writes NumPy {@code .npy} files as ND4J arrays.
 *
 * <h2>Reading</h2>
 * Format versions 1.0, 2.0 and 3.0 are accepted. Supported dtypes: {@code <f8 <f4 >f8 >f4}, signed
 * and unsigned integers of 1, 2, 4 or 8 bytes in either byte order ({@code <i8 <i4 |u1} ...) and
 * bool {@code |b1}; both {@code fortran_order} True and False; any rank, including 0-d arrays and
 * arrays with a zero-length dimension. The result has the file's shape and is always in C order.
 * {@link #read(Path)} returns float64 ({@link DataType#DOUBLE}); {@link #read(Path, DataType)}
 * can return float32 instead. Integer and bool data are converted to floating point (bool to 0/1).
 * Arrays are limited to {@code Integer.MAX_VALUE - 8} elements (a Java array is used in between).
 *
 * <h2>Writing</h2>
 * {@link #write(Path, INDArray)} writes {@code <f4} for {@link DataType#FLOAT} arrays and
 * {@code <f8} for everything else (other dtypes are converted to float64), C order, the array's
 * exact shape (rank 0 and rank 1 included). The header uses format version 1.0 unless it needs
 * more than 65535 bytes, then 2.0; the data offset is 64-byte aligned as NumPy does. Writing is
 * atomic through {@link AtomicFiles} (a unique hidden temporary in the target directory, forced to
 * disk, renamed over the target; devices and FIFOs written in place), so the final name never
 * holds a partial file.
 *
 * <h2>Errors</h2>
 * A missing file gives {@link NoSuchFileException}; everything wrong with the content gives
 * {@link NpyFormatException}, whose message starts with the file path.
 *
 * <p>Bulk data never goes element by element through ND4J: data are decoded into one Java array
 * and the {@code INDArray} is created once (and the reverse on writing).
 *
 * @see NpyMatrixWriter for writing large matrices incrementally
 */
public final class NpyFile {

    /** Bytes per I/O chunk; a multiple of 8. */
    static final int CHUNK_BYTES = 1 << 20;

    private static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private NpyFile() {
    }

    /**
     * A float64 C-order matrix file mapped into memory copy-on-write: reading costs no copy, and
     * changes to the returned array stay in memory, never reaching the file. For rank-2
     * {@code <f8} files below 2 GB (as {@link NpyMatrixWriter} writes); null for others.
     */
    public static INDArray mapCopyOnWrite(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            NpyHeader h = NpyHeader.read(ch, file);
            if (!h.descr().equals("<f8") || h.fortranOrder() || h.shape().length != 2 || h.dataOffset() % 8 != 0
                    || java.nio.ByteOrder.nativeOrder() != java.nio.ByteOrder.LITTLE_ENDIAN) {
                return null;
            }
            long end = h.dataOffset() + 8 * h.shape()[0] * h.shape()[1];
            if (end > Integer.MAX_VALUE || ch.size() < end) {
                return null;
            }
            java.nio.MappedByteBuffer map = ch.map(FileChannel.MapMode.PRIVATE, 0, end);
            return dev.curvlab.core.kernels.LargeMatrix.over(map, h.dataOffset(), h.shape()[0], h.shape()[1]);
        }
    }

    /**
     * Reads an npy file as a float64, C-order array with the file's shape.
     *
     * @param file the {@code .npy} file
     * @return a new {@link DataType#DOUBLE} array
     * @throws NoSuchFileException if the file does not exist
     * @throws NpyFormatException if the file is not a valid, supported npy file
     * @throws IOException on other I/O errors
     */
    public static INDArray read(Path file) throws IOException {
        return read(file, DataType.DOUBLE);
    }

    /**
     * Reads an npy file as a C-order array of the given floating point type with the file's shape.
     *
     * @param file the {@code .npy} file
     * @param type {@link DataType#DOUBLE} or {@link DataType#FLOAT}
     * @return a new array of {@code type}
     * @throws IllegalArgumentException if {@code type} is neither DOUBLE nor FLOAT
     * @throws NoSuchFileException if the file does not exist
     * @throws NpyFormatException if the file is not a valid, supported npy file
     * @throws IOException on other I/O errors
     */
    public static INDArray read(Path file, DataType type) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(type, "type");
        if (type != DataType.DOUBLE && type != DataType.FLOAT) {
            throw new IllegalArgumentException("NpyFile.read supports DOUBLE or FLOAT, not " + type);
        }
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "npy file does not exist");
        }
        if (Files.isDirectory(file)) {
            throw new NpyFormatException(file, "is a directory, not an npy file");
        }
        if (InputFiles.isStream(file)) {
            // a FIFO or a pipe (process substitution): read it once, sequentially, into a temporary file
            Path copy = InputFiles.copyToTemporary(file);
            try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.READ)) {
                return read(ch, file, type);
            } finally {
                AtomicFiles.discard(copy);
            }
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(ch, file, type);
        }
    }

    /** Reads the npy content of {@code ch}; messages name {@code file}. */
    private static INDArray read(FileChannel ch, Path file, DataType type) throws IOException {
        NpyHeader h = NpyHeader.read(ch, file);
        NpyDtype dt = NpyDtype.parse(h.descr(), file);
        long count = h.elementCount();
        if (count > MAX_ELEMENTS) {
            throw new NpyFormatException(file, "array with shape " + NpyHeader.shapeString(h.shape())
                    + " has " + count + " elements, more than a Java array can hold");
        }
        long need = count * dt.size();
        long have = ch.size() - h.dataOffset();
        if (have < need) {
            throw new NpyFormatException(file, "truncated data: shape " + NpyHeader.shapeString(h.shape())
                    + " of '" + dt.descr() + "' needs " + need + " data bytes after the " + h.dataOffset()
                    + "-byte header, but only " + have + " remain");
        }
        long[] shape = h.shape();
        if (count == 0) {
            return Nd4j.create(type, shape);
        }
        int n = (int) count;
        INDArray flat;
        if (type == DataType.DOUBLE) {
            double[] data = new double[n];
            readData(ch, h.dataOffset(), dt, n, file, data, null);
            flat = shape.length == 0 ? Nd4j.scalar(DataType.DOUBLE, data[0])
                    : Nd4j.create(data, h.fortranOrder() ? reversed(shape) : shape, DataType.DOUBLE);
        } else {
            float[] data = new float[n];
            readData(ch, h.dataOffset(), dt, n, file, null, data);
            flat = shape.length == 0 ? Nd4j.scalar(DataType.FLOAT, data[0])
                    : Nd4j.create(data, h.fortranOrder() ? reversed(shape) : shape, DataType.FLOAT);
        }
        if (h.fortranOrder() && shape.length > 1) {
            // Fortran data of shape s == C data of shape reverse(s), transposed
            int[] axes = new int[shape.length];
            for (int i = 0; i < axes.length; i++) {
                axes[i] = axes.length - 1 - i;
            }
            flat = flat.permute(axes).dup('c');
        }
        return flat;
    }

    private static void readData(FileChannel ch, long offset, NpyDtype dt, int n, Path file,
            double[] dd, float[] fd) throws IOException {
        int perChunk = CHUNK_BYTES / dt.size();
        ByteBuffer bb = ByteBuffer.allocate((int) Math.min((long) n * dt.size(), CHUNK_BYTES));
        double[] scratch = fd != null && !(dt.kind() == 'f' && dt.size() == 4)
                ? new double[Math.min(n, perChunk)] : null;
        long pos = offset;
        for (int done = 0; done < n; ) {
            int m = Math.min(n - done, perChunk);
            bb.clear().limit(m * dt.size());
            NpyHeader.readFully(ch, bb, pos, file, "array data");
            bb.flip();
            if (dd != null) {
                dt.decode(bb, dd, done, m);
            } else {
                dt.decode(bb, fd, done, m, scratch);
            }
            pos += (long) m * dt.size();
            done += m;
        }
    }

    private static long[] reversed(long[] shape) {
        long[] r = new long[shape.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = shape[shape.length - 1 - i];
        }
        return r;
    }

    /**
     * Atomically writes an array as an npy file: {@code <f4} if the array is FLOAT, otherwise
     * {@code <f8}; C order; the array's shape. An existing file is replaced.
     *
     * @param file destination; its directory must exist
     * @param array the array to write (any rank, any order, views allowed); not modified
     * @throws IOException on I/O errors; the destination is then left untouched
     */
    public static void write(Path file, INDArray array) throws IOException {
        Objects.requireNonNull(file, "file");
        Encoded e = encode(array);
        AtomicFiles.write(file, e::writeTo);
    }

    /**
     * An array encoded as npy content (header + data in Java arrays), ready to be written
     * sequentially to any channel: a temporary file ({@link AtomicFiles}, {@link OutputTransaction})
     * or a device or FIFO in place.
     */
    public static Encoded encode(INDArray array) {
        Objects.requireNonNull(array, "array");
        boolean f32 = array.dataType() == DataType.FLOAT;
        long[] shape = array.shape();
        long count = array.length();
        byte[] header = NpyHeader.encode(f32 ? "<f4" : "<f8", false, shape);
        double[] dd = null;
        float[] fd = null;
        if (count > 0) {
            if (count > MAX_ELEMENTS) {
                throw new IllegalArgumentException("array of " + count + " elements is too large for NpyFile.write");
            }
            INDArray c = array.dup('c');
            if (f32) {
                fd = c.data().asFloat();
            } else {
                dd = (c.dataType() == DataType.DOUBLE ? c : c.castTo(DataType.DOUBLE)).data().asDouble();
            }
        }
        return new Encoded(header, dd, fd);
    }

    /** Npy content: the header and either float64 or float32 data. */
    public static final class Encoded {
        private final byte[] header;
        private final double[] dd;
        private final float[] fd;

        Encoded(byte[] header, double[] dd, float[] fd) {
            this.header = header;
            this.dd = dd;
            this.fd = fd;
        }

        /** Bytes of the whole file. */
        public long size() {
            return header.length + (dd != null ? 8L * dd.length : fd != null ? 4L * fd.length : 0);
        }

        /** Writes the file's bytes sequentially. */
        public void writeTo(java.nio.channels.WritableByteChannel ch) throws IOException {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            ByteBuffer bb = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            int n = dd != null ? dd.length : fd != null ? fd.length : 0;
            int per = dd != null ? CHUNK_BYTES / 8 : CHUNK_BYTES / 4;
            for (int done = 0; done < n; ) {
                int m = Math.min(n - done, per);
                bb.clear();
                if (dd != null) {
                    bb.asDoubleBuffer().put(dd, done, m);
                    bb.limit(m * 8);
                } else {
                    bb.asFloatBuffer().put(fd, done, m);
                    bb.limit(m * 4);
                }
                AtomicFiles.writeFully(ch, bb);
                done += m;
            }
        }
    }

    /** Writes {@code dd[from .. from+n)} as little-endian float64 at {@code pos}. */
    static void writeDoubles(FileChannel ch, long pos, double[] dd, int from, int n) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate((int) Math.min((long) n * 8, CHUNK_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        for (int done = 0; done < n; ) {
            int m = Math.min(n - done, CHUNK_BYTES / 8);
            bb.clear();
            bb.asDoubleBuffer().put(dd, from + done, m);
            bb.limit(m * 8);
            writeFully(ch, bb, pos);
            pos += (long) m * 8;
            done += m;
        }
    }

    static void writeFully(FileChannel ch, ByteBuffer bb, long pos) throws IOException {
        while (bb.hasRemaining()) {
            pos += ch.write(bb, pos);
        }
    }
}

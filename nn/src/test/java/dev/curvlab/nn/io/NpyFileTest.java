package dev.curvlab.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NpyFileTest {

    @TempDir
    Path dir;

    private static final long[][] SHAPES = {{}, {5}, {3, 4}, {2, 3, 4}};

    /** Builds npy bytes by hand: given version, header dict text and raw data. */
    static byte[] npy(int major, String dict, byte[] data) {
        int pre = major == 1 ? 10 : 12;
        StringBuilder h = new StringBuilder(dict);
        while ((pre + h.length() + 1) % 64 != 0) {
            h.append(' ');
        }
        h.append('\n');
        byte[] hb = h.toString().getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        ByteBuffer bb = ByteBuffer.allocate(pre + hb.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            bb.putShort((short) hb.length);
        } else {
            bb.putInt(hb.length);
        }
        return bb.put(hb).put(data).array();
    }

    static String dict(String descr, boolean fortran, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
    }

    static byte[] doubles(ByteOrder order, double... v) {
        ByteBuffer bb = ByteBuffer.allocate(v.length * 8).order(order);
        for (double d : v) {
            bb.putDouble(d);
        }
        return bb.array();
    }

    static byte[] floats(ByteOrder order, float... v) {
        ByteBuffer bb = ByteBuffer.allocate(v.length * 4).order(order);
        for (float d : v) {
            bb.putFloat(d);
        }
        return bb.array();
    }

    private Path file(byte[] content) throws IOException {
        Path p = dir.resolve("crafted.npy");
        Files.write(p, content);
        return p;
    }

    private static INDArray sequential(long[] shape, DataType type) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = 0.5 * i - 3.25;
        }
        return shape.length == 0 ? Nd4j.scalar(type, -1.5) : Nd4j.create(v, shape, DataType.DOUBLE).castTo(type);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3})
    void roundTripDouble(int rank) throws IOException {
        INDArray a = sequential(SHAPES[rank], DataType.DOUBLE);
        Path p = dir.resolve("a.npy");
        NpyFile.write(p, a);
        INDArray b = NpyFile.read(p);
        assertEquals(DataType.DOUBLE, b.dataType());
        assertEquals(rank, b.rank());
        assertArrayEquals(SHAPES[rank], b.shape());
        assertEquals('c', b.ordering());
        assertEquals(a, b);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3})
    void roundTripFloat(int rank) throws IOException {
        INDArray a = sequential(SHAPES[rank], DataType.FLOAT);
        Path p = dir.resolve("a.npy");
        NpyFile.write(p, a);
        String header = new String(Files.readAllBytes(p), 0, 64, StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("'descr': '<f4'"), header);
        INDArray asFloat = NpyFile.read(p, DataType.FLOAT);
        assertEquals(DataType.FLOAT, asFloat.dataType());
        assertArrayEquals(SHAPES[rank], asFloat.shape());
        assertEquals(a, asFloat);
        INDArray asDouble = NpyFile.read(p);
        assertEquals(DataType.DOUBLE, asDouble.dataType());
        assertEquals(a.castTo(DataType.DOUBLE), asDouble);
    }

    @Test
    void writesNumpyCompatibleHeader() throws IOException {
        Path p = dir.resolve("h.npy");
        NpyFile.write(p, sequential(new long[] {3}, DataType.DOUBLE));
        byte[] bytes = Files.readAllBytes(p);
        assertEquals(1, bytes[6]);
        assertEquals(0, bytes[7]);
        int hlen = (bytes[8] & 0xFF) | (bytes[9] & 0xFF) << 8;
        assertEquals(0, (10 + hlen) % 64);
        assertEquals(10 + hlen + 3 * 8, bytes.length);
        String h = new String(bytes, 10, hlen, StandardCharsets.US_ASCII);
        assertEquals("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", h.strip());
        assertTrue(h.endsWith("\n"));
    }

    @Test
    void hugeHeaderUsesVersion2() {
        long[] shape = new long[30000];
        Arrays.fill(shape, 1);
        byte[] h = NpyHeader.encode("<f8", false, shape);
        assertEquals(2, h[6]);
        assertEquals(0, h.length % 64);
        assertEquals(1, NpyHeader.encode("<f8", false, new long[] {2, 2})[6]);
    }

    @Test
    void writesViewsInLogicalCOrder() throws IOException {
        INDArray a = Nd4j.create(new double[] {1, 2, 3, 4, 5, 6}, new long[] {2, 3}, DataType.DOUBLE);
        Path p = dir.resolve("t.npy");
        NpyFile.write(p, a.transpose());
        INDArray b = NpyFile.read(p);
        assertArrayEquals(new long[] {3, 2}, b.shape());
        assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, b.data().asDouble());
    }

    @Test
    void roundTripLargerThanIoChunk() throws IOException {
        int n = (NpyFile.CHUNK_BYTES / 8 * 2 / 3 + 41) * 3;
        double[] v = new Random(7).doubles(n).toArray();
        INDArray a = Nd4j.create(v, new long[] {n / 3, 3}, DataType.DOUBLE);
        Path p = dir.resolve("big.npy");
        NpyFile.write(p, a);
        assertArrayEquals(v, NpyFile.read(p).data().asDouble());
        float[] f = NpyFile.read(p, DataType.FLOAT).data().asFloat();
        assertEquals((float) v[n - 1], f[n - 1]);
    }

    @Test
    void emptyArray() throws IOException {
        Path p = file(npy(1, dict("<f8", false, "(0, 3)"), new byte[0]));
        INDArray a = NpyFile.read(p);
        assertArrayEquals(new long[] {0, 3}, a.shape());
        assertTrue(a.isEmpty());
    }

    @Test
    void writeIsAtomicAndLeavesNoTempFiles() throws IOException {
        Path p = dir.resolve("x.npy");
        NpyFile.write(p, sequential(new long[] {4}, DataType.DOUBLE));
        NpyFile.write(p, sequential(new long[] {2, 2}, DataType.DOUBLE)); // replaces
        assertArrayEquals(new long[] {2, 2}, NpyFile.read(p).shape());
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(1, s.count());
        }
    }

    @Test
    void failedMoveLeavesTargetUntouchedAndCleansUp() throws IOException {
        Path target = dir.resolve("occupied.npy");
        Files.createDirectory(target);
        Files.writeString(target.resolve("keep.txt"), "x"); // non-empty directory: cannot be replaced
        assertThrows(IOException.class, () -> NpyFile.write(target, sequential(new long[] {3}, DataType.DOUBLE)));
        assertTrue(Files.isDirectory(target));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(1, s.count(), "temporary file must be deleted");
        }
    }

    @Test
    void readsFortranOrder() throws IOException {
        // numpy: np.asfortranarray([[1,2,3],[4,5,6]]) stores columns: 1 4 2 5 3 6
        Path p = file(npy(1, dict("<f8", true, "(2, 3)"), doubles(ByteOrder.LITTLE_ENDIAN, 1, 4, 2, 5, 3, 6)));
        INDArray a = NpyFile.read(p);
        assertEquals('c', a.ordering());
        assertArrayEquals(new long[] {2, 3}, a.shape());
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, a.data().asDouble());
    }

    @Test
    void readsFortranOrderRank3() throws IOException {
        // element (i,j,k) of shape (2,3,4) has value 100i+10j+k; Fortran order: i fastest
        double[] f = new double[24];
        double[] c = new double[24];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                for (int k = 0; k < 4; k++) {
                    f[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
                    c[12 * i + 4 * j + k] = 100 * i + 10 * j + k;
                }
            }
        }
        Path p = file(npy(1, dict("<f8", true, "(2, 3, 4)"), doubles(ByteOrder.LITTLE_ENDIAN, f)));
        INDArray a = NpyFile.read(p);
        assertArrayEquals(new long[] {2, 3, 4}, a.shape());
        assertArrayEquals(c, a.dup('c').data().asDouble());
        assertEquals(123.0, a.getDouble(1, 2, 3));
    }

    @Test
    void readsBigEndian() throws IOException {
        Path p = file(npy(1, dict(">f8", false, "(3,)"), doubles(ByteOrder.BIG_ENDIAN, 1.5, -2, 1e300)));
        assertArrayEquals(new double[] {1.5, -2, 1e300}, NpyFile.read(p).data().asDouble());
        Path q = file(npy(1, dict(">f4", false, "(2,)"), floats(ByteOrder.BIG_ENDIAN, 0.25f, -7f)));
        assertArrayEquals(new double[] {0.25, -7}, NpyFile.read(q).data().asDouble());
        assertArrayEquals(new float[] {0.25f, -7f}, NpyFile.read(q, DataType.FLOAT).data().asFloat());
    }

    @Test
    void readsIntegerAndBoolTypes() throws IOException {
        ByteBuffer i8 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-3).putLong(1L << 40);
        assertArrayEquals(new double[] {-3, 1L << 40},
                NpyFile.read(file(npy(1, dict("<i8", false, "(2,)"), i8.array()))).data().asDouble());
        ByteBuffer i4 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(1).putInt(-2).putInt(3).putInt(-4);
        INDArray a = NpyFile.read(file(npy(1, dict("<i4", false, "(2, 2)"), i4.array())));
        assertEquals(DataType.DOUBLE, a.dataType());
        assertEquals(-4.0, a.getDouble(1, 1));
        assertArrayEquals(new double[] {0, 200, 255},
                NpyFile.read(file(npy(1, dict("|u1", false, "(3,)"), new byte[] {0, (byte) 200, (byte) 255})))
                        .data().asDouble());
        assertArrayEquals(new double[] {1, 0, 1},
                NpyFile.read(file(npy(1, dict("|b1", false, "(3,)"), new byte[] {1, 0, 1}))).data().asDouble());
        assertArrayEquals(new float[] {1, 0},
                NpyFile.read(file(npy(1, dict("|b1", false, "(2,)"), new byte[] {1, 0})), DataType.FLOAT)
                        .data().asFloat());
    }

    @Test
    void readsScalar() throws IOException {
        INDArray a = NpyFile.read(file(npy(1, dict("<f8", false, "()"), doubles(ByteOrder.LITTLE_ENDIAN, 42.5))));
        assertEquals(0, a.rank());
        assertEquals(42.5, a.getDouble(0));
    }

    @Test
    void readsVersion2And3Headers() throws IOException {
        byte[] data = doubles(ByteOrder.LITTLE_ENDIAN, 1, 2, 3, 4);
        INDArray v2 = NpyFile.read(file(npy(2, dict("<f8", false, "(2, 2)"), data)));
        assertArrayEquals(new double[] {1, 2, 3, 4}, v2.data().asDouble());
        INDArray v3 = NpyFile.read(file(npy(3, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), 'x': 'é'}", data)));
        assertArrayEquals(new double[] {1, 2, 3, 4}, v3.data().asDouble());
    }

    @Test
    void toleratesHeaderVariants() throws IOException {
        // key order, double quotes, no trailing comma, Python 2 long suffix
        String d = "{\"shape\": (2L,), \"fortran_order\": False, \"descr\": \"<f8\"}";
        assertArrayEquals(new double[] {5, 6},
                NpyFile.read(file(npy(1, d, doubles(ByteOrder.LITTLE_ENDIAN, 5, 6)))).data().asDouble());
    }

    // ---- errors -------------------------------------------------------------------------------

    private <T extends Throwable> String fails(Class<T> type, Path p) {
        T e = assertThrows(type, () -> NpyFile.read(p));
        assertTrue(e.getMessage().contains(p.toString()), "message must name the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void missingFile() {
        String m = fails(NoSuchFileException.class, dir.resolve("nope.npy"));
        assertTrue(m.contains("does not exist"), m);
    }

    @Test
    void badMagic() throws IOException {
        String m = fails(NpyFormatException.class, file("hello, this is a text file".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(m.contains("not an npy file") && m.contains("magic"), m);
        assertTrue(fails(NpyFormatException.class, file(new byte[0])).contains("bad magic"));
    }

    @Test
    void truncatedData() throws IOException {
        byte[] full = npy(1, dict("<f8", false, "(2, 3)"), doubles(ByteOrder.LITTLE_ENDIAN, 1, 2, 3, 4, 5, 6));
        String m = fails(NpyFormatException.class, file(Arrays.copyOf(full, full.length - 5)));
        assertTrue(m.contains("truncated data") && m.contains("(2, 3)") && m.contains("48"), m);
    }

    @Test
    void truncatedHeader() throws IOException {
        byte[] full = npy(1, dict("<f8", false, "(2,)"), new byte[16]);
        String m = fails(NpyFormatException.class, file(Arrays.copyOf(full, 30)));
        assertTrue(m.contains("truncated npy header"), m);
    }

    @Test
    void unsupportedDtypeIsNamed() throws IOException {
        for (String descr : new String[] {"<c16", "<f2", "<U5", "|O"}) {
            String m = fails(NpyFormatException.class, file(npy(1, dict(descr, false, "(1,)"), new byte[64])));
            assertTrue(m.contains("unsupported dtype '" + descr + "'"), m);
        }
        String d = "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }";
        String m = fails(NpyFormatException.class, file(npy(1, d, new byte[8])));
        assertTrue(m.contains("unsupported dtype") && m.contains("structured"), m);
    }

    @Test
    void unsupportedVersion() throws IOException {
        byte[] b = npy(1, dict("<f8", false, "(1,)"), new byte[8]);
        b[6] = 4;
        assertTrue(fails(NpyFormatException.class, file(b)).contains("unsupported npy format version 4.0"));
    }

    @Test
    void malformedHeaderDict() throws IOException {
        String m = fails(NpyFormatException.class, file(npy(1, "{'descr': '<f8', 'fortran_order': False}", new byte[8])));
        assertTrue(m.contains("malformed header dict") && m.contains("missing key 'shape'"), m);
        m = fails(NpyFormatException.class, file(npy(1, "{'descr' '<f8', 'shape': (1,)}", new byte[8])));
        assertTrue(m.contains("malformed header dict at character 9") && m.contains("expected ':'"), m);
        m = fails(NpyFormatException.class, file(npy(1, "not a dict", new byte[8])));
        assertTrue(m.contains("malformed header dict"), m);
        m = fails(NpyFormatException.class, file(npy(1, dict("<f8", false, "(2, 'x')"), new byte[16])));
        assertTrue(m.contains("invalid shape") && m.contains("not an integer"), m);
    }

    @Test
    void negativeShape() throws IOException {
        String m = fails(NpyFormatException.class, file(npy(1, dict("<f8", false, "(2, -3)"), new byte[48])));
        assertTrue(m.contains("invalid shape [2, -3]") && m.contains("dimension 1 is negative"), m);
    }

    @Test
    void directoryIsRejected() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("sub.npy"));
        assertTrue(fails(NpyFormatException.class, sub).contains("is a directory"));
    }

    @Test
    void rejectsNonFloatReadType() {
        assertThrows(IllegalArgumentException.class, () -> NpyFile.read(dir.resolve("a.npy"), DataType.INT32));
    }

    @Test
    void nonFloatArraysAreWrittenAsFloat64() throws IOException {
        Path p = dir.resolve("i.npy");
        NpyFile.write(p, Nd4j.createFromArray(1, 2, 3));
        INDArray b = NpyFile.read(p);
        assertArrayEquals(new double[] {1, 2, 3}, b.data().asDouble());
        assertFalse(new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1).contains("<i4"));
    }
}

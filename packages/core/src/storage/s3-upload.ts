/**
 * One object's upload, in memory that does not grow with the object: the bytes are copied into at
 * most `queueSize + 1` buffers of a part's size (one filling while the others are sent), each sent
 * as a part of a multipart upload and reused once its part is stored. When the part size doubles
 * (past 1,000 parts) half as many go at once, so the memory stays that of `queueSize + 1` first
 * parts (a 5 GiB stream went from 25 to 50 MiB of buffers in its last parts). Data under one part is one
 * PutObject. lib-storage's Upload, which batt used first, concatenates its input into new buffers
 * and keeps the buffer of each part's last input chunk alive with the part.
 *
 * A failure stops the reading and is thrown once the parts on their way have settled; the caller
 * aborts the multipart upload it was told of (`onUploadId`). The SDK retries each request.
 */
import type * as S3 from '@aws-sdk/client-s3';

export interface UploadTarget {
  s3: typeof S3;
  client: S3.S3Client;
  bucket: string;
  key: string;
  /** The first parts' size; it doubles every `partsPerSize` parts (1,000). */
  partSize: number;
  partsPerSize?: number;
  queueSize: number;
  /** `If-None-Match: *` on the request that makes the object appear. */
  conditional: boolean;
  /** Told the multipart upload's id as soon as it has one. */
  onUploadId(id: string): void;
}

const maxPart = 5 * 1024 ** 3;

export async function uploadParts(target: UploadTarget, body: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): Promise<void> {
  const { s3, client, bucket, key, partSize, queueSize } = target;
  const condition = target.conditional ? { IfNoneMatch: '*' } : {};
  const free: Buffer[] = [];
  const sending = new Set<Promise<void>>();
  const parts: S3.CompletedPart[] = [];
  let uploadId: string | undefined;
  let failure: { error: unknown } | undefined;

  const send = async (data: Buffer, length: number): Promise<void> => {
    // Larger parts go fewer at a time: the bytes on their way stay at queueSize first parts.
    const inFlight = Math.max(1, Math.floor((queueSize * partSize) / data.length));
    while (sending.size >= inFlight) await Promise.race(sending);
    if (failure) throw failure.error;
    if (uploadId === undefined) {
      const created = await client.send(new s3.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      uploadId = created.UploadId!;
      target.onUploadId(uploadId);
    }
    const PartNumber = parts.length + 1;
    parts.push({ PartNumber });
    const sent: Promise<void> = client
      .send(new s3.UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body: data.subarray(0, length), ContentLength: length }))
      .then(
        (answer) => {
          parts[PartNumber - 1].ETag = answer.ETag;
          free.push(data);
        },
        (error: unknown) => void (failure ??= { error }),
      )
      .finally(() => sending.delete(sent));
    sending.add(sent);
  };

  // S3 allows 10,000 parts: the part size doubles every 1,000 parts, so a stream of unknown
  // length can reach S3's 5 TiB limit (with 5 MiB parts) while memory stays small for most.
  const nextBuffer = (): Buffer => {
    const size = Math.min(partSize * 2 ** Math.floor(parts.length / (target.partsPerSize ?? 1000)), maxPart);
    while (free.length && free[free.length - 1].length !== size) free.pop();
    return free.pop() ?? Buffer.allocUnsafe(size);
  };
  let buffer = nextBuffer();
  let filled = 0;
  try {
    for await (const raw of body) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
      for (let at = 0; at < chunk.length;) {
        const copied = chunk.copy(buffer, filled, at);
        filled += copied;
        at += copied;
        if (filled < buffer.length) continue;
        await send(buffer, filled);
        buffer = nextBuffer();
        filled = 0;
      }
    }
    if (uploadId === undefined) {
      await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key: key, Body: buffer.subarray(0, filled), ContentLength: filled, ...condition }));
      return;
    }
    if (filled > 0) await send(buffer, filled);
  } finally {
    await Promise.allSettled([...sending]);
  }
  if (failure) throw failure.error;
  await client.send(new s3.CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts }, ...condition }));
}

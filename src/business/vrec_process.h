/* vrec_process — a finished call's tracks turned into sealed files
 * (business/vrec.h): the spool folder Janus recorded into, janus-pp-rec
 * run on each .mjr (audio → .opus, video → .webm; a track with nothing
 * decodable is skipped), each output hashed (SM3) and sealed under the KEK
 * (business/vrec_seal.h) into recordings_dir/<bank>/<id>-<n>.<ext>.zyv, the
 * clear output deleted. No database. */
#ifndef ZHANYE_VREC_PROCESS_H
#define ZHANYE_VREC_PROCESS_H

#include "business/vrec.h"

#include <stddef.h>
#include <stdint.h>

/* recordings_dir/spool/<bank>-<call> into out (cap >= VREC_SPOOL_MAX). */
void vrec_spool_dir(const char *recordings_dir, int64_t bank_id, const char *call_id, char *out,
                    size_t cap);
/* mkdir -p, mode 0700. 0 or -1 (errno). */
int vrec_mkdir(const char *path);
/* The files of dir, then dir. */
void vrec_rmdir(const char *dir);
/* The tracks of spool for recording row of bank_id: sets row->files (a
 * JSON array of {n, kind, mime, sm3, size, path}; path relative to
 * recordings_dir), row->sm3 (the manifest's SM3), row->size, row->state
 * (stored, empty: no track; failed: row->error says where, and nothing
 * sealed is kept), and *tracks. row->files is NULL only when out of memory. */
void vrec_process(const struct vrec_env *e, int64_t bank_id, const char *spool, struct vdb_row *row,
                  int *tracks);

#endif

from mutualis.audit.tags import Tag


class VaultTag(Tag):
    # Backups (docs/backup.md): the data without the key store, the key store apart, a restore.
    BACKUP_CREATE = "vault:backup:create"
    KEYSTORE_BACKUP = "vault:keystore:backup"
    BACKUP_RESTORE = "vault:backup:restore"
    BACKUP_PRUNE = "vault:backup:prune"

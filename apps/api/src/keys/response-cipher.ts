// The cipher lives in @keyfence/db (the workers open webhook secrets with it too); this name stays for the API.
export { SecretCipher as ResponseCipher } from '@keyfence/db';

/**
 * @generated SignedSource<<0123456789abcdef0123456789abcdef>>
 * @flow
 */
export default {};

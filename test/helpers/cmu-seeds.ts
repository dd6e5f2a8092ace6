// Excerpts of the seed documents the project comes from (kept beside the repository) that the CMU tests check against: the
// approval file of quorum-crypto-officers.md and the machine-readable lines of its transcripts.
// They are the acceptance criteria, so they are kept verbatim.

/** The example approval file of seed quorum-crypto-officers.md, verbatim. */
export const SEED_APPROVAL_FILE = `# For "Multi Token File Path", type the path to the file that contains
# the token. You can type the same value for "Token File Path", but
# that's not required. The "Token File Path" line is required in any
# case, regardless of whether you type a value.
Multi Token File Path = officer1.token;
Token File Path = ;

# Total number of approvals
Number of Approvals = 2;

# Approver 1
# Type the approver's type, name, and the path to the file that
# contains the approver's signature.
Approver Type = 2; # 2 for CO, 1 for CU
Approver Name = officer1;
Approval File = officer1.token.sig1;

# Approver 2
# Type the approver's type, name, and the path to the file that
# contains the approver's signature.
Approver Type = 2; # 2 for CO, 1 for CU
Approver Name = officer2;
Approval File = officer1.token.sig2;
`;

/** quorum-crypto-officers.md: listUsers after createUser CU user1 (8 users on each of 2 servers). */
export const SEED_LIST_USERS: readonly string[] = [
  "aws-cloudhsm>listUsers",
  "Users on server 0(10.0.2.14):",
  "Number of users found:8",
  "",
  "    User Id             User Type       User Name                          MofnPubKey    LoginFailureCnt         2FA",
  "         1              PCO             admin                                    NO               0               NO",
  "         2              AU              app_user                                 NO               0               NO",
  "         3              CO              officer1                                YES               0               NO",
  "         4              CO              officer2                                YES               0               NO",
  "         5              CO              officer3                                YES               0               NO",
  "         6              CO              officer4                                YES               0               NO",
  "         7              CO              officer5                                YES               0               NO",
  "         8              CU              user1                                    NO               0               NO",
  "Users on server 1(10.0.1.4):",
  "Number of users found:8",
  "",
  "    User Id             User Type       User Name                          MofnPubKey    LoginFailureCnt         2FA",
  "         1              PCO             admin                                    NO               0               NO",
  "         2              AU              app_user                                 NO               0               NO",
  "         3              CO              officer1                                YES               0               NO",
  "         4              CO              officer2                                YES               0               NO",
  "         5              CO              officer3                                YES               0               NO",
  "         6              CO              officer4                                YES               0               NO",
  "         7              CO              officer5                                YES               0               NO",
  "         8              CU              user1                                    NO               0               NO",
];

/** quorum-crypto-officers.md: createUser without an approved token, answered A. */
export const SEED_FAILED_CREATE_USER: readonly string[] = [
  "aws-cloudhsm>createUser CU user1 password",
  "*************************CAUTION********************************",
  "This is a CRITICAL operation, should be done on all nodes in the",
  "cluster. AWS does NOT synchronize these changes automatically with the",
  "nodes on which this operation is not executed or failed, please",
  "ensure this operation is executed on all nodes in the cluster.",
  "****************************************************************",
  "",
  "Do you want to continue(y/n)?y",
  "Creating User user1(CU) on 2 nodes",
  "createUser failed: RET_MXN_AUTH_FAILED",
  "creating user on server 0(10.0.2.14) failed",
  "",
  "Retry/Ignore/Abort?(R/I/A):A",
];

/** quorum-crypto-officers.md: getToken. */
export const SEED_GET_TOKEN: readonly string[] = [
  "aws-cloudhsm>getToken 3 officer1 officer1.token",
  "getToken success on server 0(10.0.2.14)",
  "Token:",
  "Id:1",
  "Service:3",
  "Node:1",
  "Key Handle:0",
  "User:officer1",
  "getToken success on server 1(10.0.1.4)",
  "Token:",
  "Id:1",
  "Service:3",
  "Node:0",
  "Key Handle:0",
  "User:officer1",
];

/** quorum-crypto-officers.md: approveToken. */
export const SEED_APPROVE_TOKEN: readonly string[] = [
  "aws-cloudhsm>approveToken approval.txt",
  "approveToken success on server 0(10.0.2.14)",
  "approveToken success on server 1(10.0.1.4)",
];

/** quorum-crypto-officers.md: listTokens with the approved token. */
export const SEED_LIST_TOKENS_APPROVED: readonly string[] = [
  "aws-cloudhsm>listTokens",
  "",
  "=====================",
  "    Server 0(10.0.2.14)",
  "=====================",
  "-------- Token - 0 ----------",
  "Token:",
  "Id:1",
  "Service:3",
  "Node:1",
  "Key Handle:0",
  "User:officer1",
  "Token Validity: 506 sec",
  "Required num of approvers : 2",
  "Current num of approvals : 2",
  "Approver-0: officer1",
  "Approver-1: officer2",
  "Num of tokens = 1",
  "",
  "=====================",
  "    Server 1(10.0.1.4)",
  "=====================",
  "-------- Token - 0 ----------",
  "Token:",
  "Id:1",
  "Service:3",
  "Node:0",
  "Key Handle:0",
  "User:officer1",
  "Token Validity: 506 sec",
  "Required num of approvers : 2",
  "Current num of approvals : 2",
  "Approver-0: officer1",
  "Approver-1: officer2",
  "Num of tokens = 1",
  "",
  "listTokens success",
];

/** quorum-crypto-officers.md: createUser with the approved token. */
export const SEED_CREATE_USER: readonly string[] = [
  "aws-cloudhsm>createUser CU user1 password",
  "*************************CAUTION********************************",
  "This is a CRITICAL operation, should be done on all nodes in the",
  "cluster. AWS does NOT synchronize these changes automatically with the",
  "nodes on which this operation is not executed or failed, please",
  "ensure this operation is executed on all nodes in the cluster.",
  "****************************************************************",
  "",
  "Do you want to continue(y/n)?y",
  "Creating User user1(CU) on 2 nodes",
];

/** quorum-crypto-officers.md: deleteUser after the token was used, answered I twice. */
export const SEED_DELETE_USER: readonly string[] = [
  "aws-cloudhsm>deleteUser CU user1",
  "Deleting user user1(CU) on 2 nodes",
  "deleteUser failed: RET_MXN_AUTH_FAILED",
  "deleteUser failed on server 0(10.0.2.14)",
  "",
  "Retry/rollBack/Ignore?(R/B/I):I",
  "deleteUser failed: RET_MXN_AUTH_FAILED",
  "deleteUser failed on server 1(10.0.1.4)",
  "",
  "Retry/rollBack/Ignore?(R/B/I):I",
];

/** quorum-crypto-officers.md: listTokens after the token was used. */
export const SEED_LIST_TOKENS_EMPTY: readonly string[] = [
  "aws-cloudhsm>listTokens",
  "",
  "=====================",
  "    Server 0(10.0.2.14)",
  "=====================",
  "Num of tokens = 0",
  "",
  "=====================",
  "    Server 1(10.0.1.4)",
  "=====================",
  "Num of tokens = 0",
  "",
  "listTokens success",
];

/** ret-mxn-auth-failed.md: getMValue 3 with M = 2. */
export const SEED_GET_M_VALUE: readonly string[] = [
  "aws-cloudhsm>getMValue 3",
  "MValue of service 3[USER_MGMT] on server 0 : [2]",
  "MValue of service 3[USER_MGMT] on server 1 : [2]",
];

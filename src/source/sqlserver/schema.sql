-- ud-bridge reference schema for SQL Server 2016 SP1 or later (CREATE OR ALTER).
--
-- ud-bridge reads only the views in schema [ud_bridge] and writes only ud_bridge.ConnectLinks and
-- ud_bridge.ConnectProfiles. The views return exactly the columns of src/source/sqlserver/columns.ts
-- (the column contract); `ud-bridge doctor` checks a database against it.
--
-- Run with sqlcmd (batches are separated by GO). Safe to run again: every object is created if
-- missing or altered in place.

IF SCHEMA_ID(N'ud_bridge') IS NULL EXEC(N'CREATE SCHEMA ud_bridge');
GO
IF SCHEMA_ID(N'vud_sample') IS NULL EXEC(N'CREATE SCHEMA vud_sample');
GO

-- =================================================================================================
-- SAMPLE BASE TABLES FOR TESTING — in a real VUD point the views below at its tables instead.
-- VUD's own tables are not public; these are a plausible minimal model so the views, the
-- testcontainers suite and docker-compose have something to read.
-- =================================================================================================
IF OBJECT_ID(N'vud_sample.Company', N'U') IS NULL
CREATE TABLE vud_sample.Company (
  CompanyId     nvarchar(20)   NOT NULL CONSTRAINT PK_Company PRIMARY KEY,
  Name          nvarchar(200)  NOT NULL,
  OrgNo         nvarchar(50)   NOT NULL,
  Country       nvarchar(2)    NOT NULL,
  Closed        bit            NOT NULL CONSTRAINT DF_Company_Closed DEFAULT (0)
);
GO
IF OBJECT_ID(N'vud_sample.CompanyGroup', N'U') IS NULL
CREATE TABLE vud_sample.CompanyGroup (
  GroupId       nvarchar(20)   NOT NULL CONSTRAINT PK_CompanyGroup PRIMARY KEY,
  Name          nvarchar(200)  NOT NULL
);
GO
IF OBJECT_ID(N'vud_sample.CompanyGroupMember', N'U') IS NULL
CREATE TABLE vud_sample.CompanyGroupMember (
  GroupId       nvarchar(20)   NOT NULL REFERENCES vud_sample.CompanyGroup (GroupId),
  CompanyId     nvarchar(20)   NOT NULL REFERENCES vud_sample.Company (CompanyId),
  CONSTRAINT PK_CompanyGroupMember PRIMARY KEY (GroupId, CompanyId)
);
GO
IF OBJECT_ID(N'vud_sample.Program', N'U') IS NULL
CREATE TABLE vud_sample.Program (
  ProgramCode   nvarchar(50)   NOT NULL CONSTRAINT PK_Program PRIMARY KEY,
  Name          nvarchar(200)  NOT NULL
);
GO
IF OBJECT_ID(N'vud_sample.CompanyProgram', N'U') IS NULL
CREATE TABLE vud_sample.CompanyProgram (
  CompanyId     nvarchar(20)   NOT NULL REFERENCES vud_sample.Company (CompanyId),
  ProgramCode   nvarchar(50)   NOT NULL REFERENCES vud_sample.Program (ProgramCode),
  CONSTRAINT PK_CompanyProgram PRIMARY KEY (CompanyId, ProgramCode)
);
GO
IF OBJECT_ID(N'vud_sample.[User]', N'U') IS NULL
CREATE TABLE vud_sample.[User] (
  UserId             nvarchar(20)     NOT NULL CONSTRAINT PK_User PRIMARY KEY,
  LoginName          nvarchar(200)    NOT NULL,
  Email              nvarchar(320)    NULL,
  FirstName          nvarchar(100)    NOT NULL,
  LastName           nvarchar(100)    NOT NULL,
  Language           nvarchar(10)     NULL,
  Country            nvarchar(2)      NULL,
  Disabled           bit              NOT NULL CONSTRAINT DF_User_Disabled DEFAULT (0),
  TwoStepEnforced    bit              NULL,
  EmailChangeAllowed bit              NULL
);
GO
IF OBJECT_ID(N'vud_sample.Role', N'U') IS NULL
CREATE TABLE vud_sample.Role (
  RoleId        int            NOT NULL CONSTRAINT PK_Role PRIMARY KEY,
  ProgramCode   nvarchar(50)   NOT NULL REFERENCES vud_sample.Program (ProgramCode),
  Name          nvarchar(200)  NOT NULL
);
GO
-- A role is held at company scope or at company-group scope, never both.
IF OBJECT_ID(N'vud_sample.UserRole', N'U') IS NULL
CREATE TABLE vud_sample.UserRole (
  UserId        nvarchar(20)     NOT NULL REFERENCES vud_sample.[User] (UserId),
  RoleId        int              NOT NULL REFERENCES vud_sample.Role (RoleId),
  CompanyId     nvarchar(20)     NULL REFERENCES vud_sample.Company (CompanyId),
  GroupId       nvarchar(20)     NULL REFERENCES vud_sample.CompanyGroup (GroupId),
  -- Exactly one scope: T-SQL has no boolean comparison, so count the non-NULL scope columns.
  CONSTRAINT CK_UserRole_ExactlyOneScope
    CHECK ((CASE WHEN CompanyId IS NULL THEN 0 ELSE 1 END) + (CASE WHEN GroupId IS NULL THEN 0 ELSE 1 END) = 1)
);
GO
IF OBJECT_ID(N'vud_sample.Module', N'U') IS NULL
CREATE TABLE vud_sample.Module (
  ModuleId      int            NOT NULL CONSTRAINT PK_Module PRIMARY KEY,
  ProgramCode   nvarchar(50)   NOT NULL REFERENCES vud_sample.Program (ProgramCode),
  Name          nvarchar(200)  NOT NULL
);
GO
IF OBJECT_ID(N'vud_sample.UserModule', N'U') IS NULL
CREATE TABLE vud_sample.UserModule (
  UserId        nvarchar(20)     NOT NULL REFERENCES vud_sample.[User] (UserId),
  ModuleId      int              NOT NULL REFERENCES vud_sample.Module (ModuleId),
  CONSTRAINT PK_UserModule PRIMARY KEY (UserId, ModuleId)
);
GO
IF OBJECT_ID(N'vud_sample.LayoutGroup', N'U') IS NULL
CREATE TABLE vud_sample.LayoutGroup (
  LayoutGroupId int            NOT NULL CONSTRAINT PK_LayoutGroup PRIMARY KEY,
  ProgramCode   nvarchar(50)   NOT NULL REFERENCES vud_sample.Program (ProgramCode),
  Name          nvarchar(200)  NOT NULL
);
GO
IF OBJECT_ID(N'vud_sample.UserLayoutGroup', N'U') IS NULL
CREATE TABLE vud_sample.UserLayoutGroup (
  UserId        nvarchar(20)     NOT NULL REFERENCES vud_sample.[User] (UserId),
  LayoutGroupId int              NOT NULL REFERENCES vud_sample.LayoutGroup (LayoutGroupId),
  CONSTRAINT PK_UserLayoutGroup PRIMARY KEY (UserId, LayoutGroupId)
);
GO

-- =================================================================================================
-- THE VIEWS ud-bridge READS (the column contract). Keep the column names and types; change the
-- FROM clauses to match your VUD.
-- =================================================================================================
CREATE OR ALTER VIEW ud_bridge.Companies AS
SELECT c.CompanyId                             AS CompanyKey,
       CAST(c.Name AS nvarchar(200))          AS Name,
       CAST(c.OrgNo AS nvarchar(50))          AS OrganizationNumber,
       CAST(UPPER(c.Country) AS nvarchar(2))  AS CountryCode,
       CAST(CASE WHEN c.Closed = 1 THEN 0 ELSE 1 END AS bit) AS IsActive
FROM vud_sample.Company AS c;
GO
CREATE OR ALTER VIEW ud_bridge.CompanyGroups AS
SELECT g.GroupId AS GroupKey, CAST(g.Name AS nvarchar(200)) AS Name
FROM vud_sample.CompanyGroup AS g;
GO
CREATE OR ALTER VIEW ud_bridge.CompanyGroupMembers AS
SELECT m.GroupId AS GroupKey, m.CompanyId AS CompanyKey
FROM vud_sample.CompanyGroupMember AS m;
GO
CREATE OR ALTER VIEW ud_bridge.Programs AS
SELECT p.ProgramCode AS ProgramKey, CAST(p.Name AS nvarchar(200)) AS Name
FROM vud_sample.Program AS p;
GO
CREATE OR ALTER VIEW ud_bridge.CompanyPrograms AS
SELECT cp.CompanyId AS CompanyKey, cp.ProgramCode AS ProgramKey
FROM vud_sample.CompanyProgram AS cp;
GO
CREATE OR ALTER VIEW ud_bridge.Users AS
SELECT u.UserId                               AS UserKey,
       CAST(u.LoginName AS nvarchar(200))     AS UserName,
       CAST(u.Email AS nvarchar(320))         AS Email,
       CAST(u.FirstName AS nvarchar(100))     AS FirstName,
       CAST(u.LastName AS nvarchar(100))      AS LastName,
       CAST(u.Language AS nvarchar(10))       AS Language,
       CAST(u.Country AS nvarchar(2))         AS CountryCode,
       CAST(CASE WHEN u.Disabled = 1 THEN 0 ELSE 1 END AS bit) AS IsActive,
       u.TwoStepEnforced                      AS TwoStepEnforced,
       u.EmailChangeAllowed                   AS EmailChangeAllowed
FROM vud_sample.[User] AS u;
GO
CREATE OR ALTER VIEW ud_bridge.RoleAssignments AS
SELECT ur.UserId                              AS UserKey,
       r.ProgramCode                          AS ProgramKey,
       CAST(r.Name AS nvarchar(200))          AS Role,
       CAST(CASE WHEN ur.CompanyId IS NOT NULL THEN N'company' ELSE N'group' END AS nvarchar(10)) AS ScopeKind,
       CAST(COALESCE(ur.CompanyId, ur.GroupId) AS nvarchar(100)) AS ScopeKey
FROM vud_sample.UserRole AS ur
JOIN vud_sample.Role AS r ON r.RoleId = ur.RoleId;
GO
CREATE OR ALTER VIEW ud_bridge.UserEntitlements AS
SELECT um.UserId AS UserKey, m.ProgramCode AS ProgramKey, CAST(N'module' AS nvarchar(10)) AS Kind, CAST(m.Name AS nvarchar(200)) AS Name
FROM vud_sample.UserModule AS um JOIN vud_sample.Module AS m ON m.ModuleId = um.ModuleId
UNION ALL
SELECT ul.UserId, l.ProgramCode, CAST(N'layout' AS nvarchar(10)), CAST(l.Name AS nvarchar(200))
FROM vud_sample.UserLayoutGroup AS ul JOIN vud_sample.LayoutGroup AS l ON l.LayoutGroupId = ul.LayoutGroupId;
GO

-- =================================================================================================
-- WHAT ud-bridge WRITES
-- ConnectLinks: one row per linked company (tenant id) or user (Connect user id), by VUD key.
-- ConnectProfiles: Connect-owned email and names by Connect user id (only when
-- writeback.profiles is on), fed by USERACCOUNT_MODIFIED webhooks and by full runs; join it to
-- ConnectLinks (Entity = 'user') to reach the VUD user.
-- =================================================================================================
IF OBJECT_ID(N'ud_bridge.ConnectLinks', N'U') IS NULL
CREATE TABLE ud_bridge.ConnectLinks (
  Entity        nvarchar(20)     NOT NULL CONSTRAINT CK_ConnectLinks_Entity CHECK (Entity IN (N'company', N'user')),
  EntityKey     nvarchar(100)    NOT NULL,
  ConnectId     uniqueidentifier NOT NULL,
  LinkedAt      datetime2(3)     NOT NULL CONSTRAINT DF_ConnectLinks_LinkedAt DEFAULT (SYSUTCDATETIME()),
  CONSTRAINT PK_ConnectLinks PRIMARY KEY (Entity, EntityKey)
);
GO
IF OBJECT_ID(N'ud_bridge.ConnectProfiles', N'U') IS NULL
CREATE TABLE ud_bridge.ConnectProfiles (
  ConnectUserId uniqueidentifier NOT NULL CONSTRAINT PK_ConnectProfiles PRIMARY KEY,
  -- NULL: a field that policy.profileFields does not take from Connect.
  Email         nvarchar(320)    NULL,
  FirstName     nvarchar(100)    NULL,
  LastName      nvarchar(100)    NULL,
  UpdatedAt     datetime2(3)     NOT NULL CONSTRAINT DF_ConnectProfiles_UpdatedAt DEFAULT (SYSUTCDATETIME())
);
GO
-- Earlier versions created these columns NOT NULL; running this file again relaxes them in place.
IF COLUMNPROPERTY(OBJECT_ID(N'ud_bridge.ConnectProfiles'), N'Email', 'AllowsNull') = 0
  ALTER TABLE ud_bridge.ConnectProfiles ALTER COLUMN Email nvarchar(320) NULL;
IF COLUMNPROPERTY(OBJECT_ID(N'ud_bridge.ConnectProfiles'), N'FirstName', 'AllowsNull') = 0
  ALTER TABLE ud_bridge.ConnectProfiles ALTER COLUMN FirstName nvarchar(100) NULL;
IF COLUMNPROPERTY(OBJECT_ID(N'ud_bridge.ConnectProfiles'), N'LastName', 'AllowsNull') = 0
  ALTER TABLE ud_bridge.ConnectProfiles ALTER COLUMN LastName nvarchar(100) NULL;
GO

-- A least-privilege login for ud-bridge (run once, with your own password):
--   CREATE LOGIN ud_bridge WITH PASSWORD = N'<secret>';
--   CREATE USER ud_bridge FOR LOGIN ud_bridge;
--   GRANT SELECT ON SCHEMA::ud_bridge TO ud_bridge;
--   GRANT INSERT, UPDATE ON ud_bridge.ConnectLinks TO ud_bridge;
--   GRANT INSERT, UPDATE ON ud_bridge.ConnectProfiles TO ud_bridge;
